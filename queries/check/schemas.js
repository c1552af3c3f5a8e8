'use strict';
// The two forms of the table the envelopes land in, as Kusto schemas ("(column:type, ...)").
// Both hold the columns the queries use plus the usual ones of those tables, with their Kusto
// types, so an unknown or misspelt column is an error in either form.

// Application Insights resource: the `dependencies` table.
const dependencies = [
  'timestamp:datetime', 'id:string', 'target:string', 'type:string', 'name:string',
  'data:string', 'success:bool', 'resultCode:string', 'duration:real',
  'performanceBucket:string', 'itemType:string', 'customDimensions:dynamic',
  'customMeasurements:dynamic', 'operation_Name:string', 'operation_Id:string',
  'operation_ParentId:string', 'operation_SyntheticSource:string', 'session_Id:string',
  'user_Id:string', 'user_AuthenticatedId:string', 'user_AccountId:string',
  'application_Version:string', 'client_Type:string', 'client_Model:string',
  'client_OS:string', 'client_IP:string', 'client_City:string',
  'client_StateOrProvince:string', 'client_CountryOrRegion:string', 'client_Browser:string',
  'cloud_RoleName:string', 'cloud_RoleInstance:string', 'appId:string', 'appName:string',
  'iKey:string', 'sdkVersion:string', 'itemId:string', 'itemCount:int',
];

// Log Analytics workspace: the same rows in `AppDependencies`, columns renamed.
const AppDependencies = [
  'TenantId:string', 'TimeGenerated:datetime', 'Id:string', 'Target:string',
  'DependencyType:string', 'Name:string', 'Data:string', 'Success:bool',
  'ResultCode:string', 'DurationMs:real', 'PerformanceBucket:string', 'Properties:dynamic',
  'Measurements:dynamic', 'OperationName:string', 'OperationId:string', 'ParentId:string',
  'SyntheticSource:string', 'SessionId:string', 'UserId:string',
  'UserAuthenticatedId:string', 'UserAccountId:string', 'AppVersion:string',
  'AppRoleName:string', 'AppRoleInstance:string', 'ClientType:string', 'ClientModel:string',
  'ClientOS:string', 'ClientIP:string', 'ClientCity:string', 'ClientStateOrProvince:string',
  'ClientCountryOrRegion:string', 'ClientBrowser:string', 'ResourceGUID:string',
  'IKey:string', 'SDKVersion:string', 'ItemCount:int', 'ReferencedItemId:string',
  'ReferencedType:string', 'SourceSystem:string', 'Type:string', '_ResourceId:string',
  '_BilledSize:real', '_IsBillable:string',
];

module.exports = {
  dependencies: `(${dependencies.join(', ')})`,
  AppDependencies: `(${AppDependencies.join(', ')})`,
};
