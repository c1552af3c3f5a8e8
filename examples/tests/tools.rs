//! Per tool, exactly what telemetry records, through the testkit's
//! `capture()`: the allowlisted arguments, the dimensions, the `errorType`
//! of each way it fails, and that secrets and personal data never leave.

use std::path::PathBuf;

use azsdk_telemetry::sha256_hex;
use azsdk_telemetry_examples::args::*;
use azsdk_telemetry_examples::simulate::{Fault, Simulation};
use azsdk_telemetry_examples::tools::Toolbox;
use azsdk_telemetry_testkit::capture;
use serde_json::json;

const API_KEY: &str = "azsdk_sk_0123456789abcdef0123456789abcdef";
const GITHUB_TOKEN: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
const CLIENT_SECRET: &str = "Q~client.secret-0123456789";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUBSCRIPTION: &str = "faa080af-c1d8-40ad-9cce-e1a450ca5b57";
const EMAIL: &str = "dev.owner@contoso.com";

fn reliable() -> Toolbox {
    Toolbox::new(Simulation::reliable())
}

fn failing(fault: Fault) -> Toolbox {
    Toolbox::new(Simulation::forced(fault))
}

fn generate_args() -> GenerateSdkArgs {
    GenerateSdkArgs {
        service: "healthdataaiservices".into(),
        language: Language::DotNet,
        api_version: Some("2025-09-01".into()),
        plane: PlaneType::Data,
        sdk_release_type: Some(SdkReleaseType::Stable),
        custom_code: false,
        typespec_project_root: Some(PathBuf::from(
            "/home/alice/repos/azure-rest-api-specs/specification/healthdataaiservices",
        )),
        tenant_id: Some(TENANT.into()),
        subscription_id: Some(SUBSCRIPTION.into()),
        api_key: Some(API_KEY.into()),
    }
}

fn test_args(mode: TestMode) -> RunTestsArgs {
    RunTestsArgs {
        service: "storage".into(),
        language: Language::Java,
        mode,
        package_path: Some("sdk/storage/azure-storage-blob".into()),
        filter: Some("alice_local_test".into()),
        subscription_id: Some(SUBSCRIPTION.into()),
        client_secret: Some(CLIENT_SECRET.into()),
    }
}

fn pr_args() -> RunPrChecksArgs {
    RunPrChecksArgs {
        service: "cosmosdb".into(),
        languages: Languages(vec![Language::DotNet, Language::Java]),
        parallel: true,
        pr_number: Some(31_337),
        github_token: Some(GITHUB_TOKEN.into()),
    }
}

fn package_args() -> UpdatePackageArgs {
    UpdatePackageArgs {
        service: "keyvault".into(),
        version: "4.5.0-beta.2".into(),
        languages: Languages::all(),
        plane: PlaneType::Mgmt,
        update_changelog: true,
        package_path: None,
    }
}

fn plan_args() -> CreateReleasePlanArgs {
    CreateReleasePlanArgs {
        service: "storage".into(),
        languages: Languages(vec![Language::Python]),
        release_month: "2026-01".into(),
        sdk_release_type: SdkReleaseType::Stable,
        plane: PlaneType::Data,
        spec_pull_request: Some("https://github.com/Azure/azure-rest-api-specs/pull/35000".into()),
        tenant_id: Some(TENANT.into()),
        owner_email: Some(EMAIL.into()),
    }
}

// ---------------------------------------------------------------- verify_setup

#[tokio::test]
async fn verify_setup_records_languages_as_the_spec_shows_them() {
    let capture = capture();
    let args = VerifySetupArgs {
        languages: Languages::all(),
        verbose: true,
        repo_root: None,
    };
    reliable().verify_setup(args).await.unwrap();
    capture
        .tool("azsdk_verify_setup")
        .category("env-setup")
        .succeeded()
        .no_error()
        .args_exact(json!({ "languages": ".NET,Java,JavaScript,Python,Go", "verbose": true }))
        .response("All 5 languages verified successfully")
        .no_dimension("language");
}

#[tokio::test]
async fn verify_setup_failures_by_type() {
    for (tools, expected) in [
        (failing(Fault::MissingTool), "MissingDependency"),
        (failing(Fault::Network), "NetworkError"),
    ] {
        let capture = capture();
        assert!(tools
            .verify_setup(VerifySetupArgs::default())
            .await
            .is_err());
        capture
            .tool("azsdk_verify_setup")
            .failed()
            .error_type(expected);
    }
    let capture = capture();
    let args = VerifySetupArgs {
        languages: Languages(Vec::new()),
        ..VerifySetupArgs::default()
    };
    assert!(reliable().verify_setup(args).await.is_err());
    capture
        .tool("azsdk_verify_setup")
        .failed()
        .error_type("ValidationError")
        .args_exact(json!({ "languages": "", "verbose": false }));
}

#[tokio::test]
async fn verify_setup_records_only_that_a_repo_root_was_given() {
    let capture = capture();
    let missing = std::env::temp_dir().join("azsdk-no-such-repo-8c1f");
    let args = VerifySetupArgs {
        languages: Languages(vec![Language::Go]),
        verbose: false,
        repo_root: Some(missing.clone()),
    };
    assert!(reliable().verify_setup(args).await.is_err());
    capture
        .tool("azsdk_verify_setup")
        .error_type("ValidationError")
        .arg("repoRoot", true)
        .error_message_contains("does not exist");
    capture.assert_no_leak("azsdk-no-such-repo-8c1f");
    capture.assert_no_personal_data();
}

// ---------------------------------------------------------------- generate_sdk

#[tokio::test]
async fn generate_sdk_records_the_allowlist_hashes_and_dimensions() {
    let capture = capture();
    let generated = reliable().generate_sdk(generate_args()).await.unwrap();
    capture
        .tool("azsdk_generate_sdk")
        .category("generating")
        .succeeded()
        .properties_exact(json!({
            "toolName": "azsdk_generate_sdk",
            "toolCategory": "generating",
            "toolArgs": json!({
                "service": "healthdataaiservices",
                "language": ".NET",
                "apiVersion": "2025-09-01",
                "plane": "data",
                "sdkReleaseType": "stable",
                "customCode": false,
                "typespecProjectRoot": true,
                "tenantId": sha256_hex(TENANT),
                "subscriptionId": sha256_hex(SUBSCRIPTION),
            })
            .to_string(),
            "toolResponse": format!("SDK generated successfully ({} files)", generated.files),
            "language": ".NET",
            "serviceName": "healthdataaiservices",
            "planeType": "data",
            "isCustomSdk": "false",
        }));
    capture.assert_no_leaks(&[API_KEY, "apiKey", "api_key", TENANT, SUBSCRIPTION, "alice"]);
    capture.assert_no_personal_data();
}

#[tokio::test]
async fn generate_sdk_leaves_absent_options_out() {
    let capture = capture();
    let args = GenerateSdkArgs {
        api_version: None,
        sdk_release_type: None,
        typespec_project_root: None,
        tenant_id: None,
        subscription_id: None,
        api_key: None,
        custom_code: true,
        plane: PlaneType::Mgmt,
        ..generate_args()
    };
    reliable().generate_sdk(args).await.unwrap();
    capture
        .tool("azsdk_generate_sdk")
        .args_exact(json!({
            "service": "healthdataaiservices",
            "language": ".NET",
            "plane": "mgmt",
            "customCode": true,
        }))
        .dimension("planeType", "mgmt")
        .dimension("isCustomSdk", "true");
}

#[tokio::test]
async fn generate_sdk_validation_errors() {
    let cases = [
        (
            GenerateSdkArgs {
                api_version: Some("2025-9-1".into()),
                ..generate_args()
            },
            "invalid api version `2025-9-1`: expected YYYY-MM-DD or YYYY-MM-DD-preview",
        ),
        (
            GenerateSdkArgs {
                api_version: Some("2025-05-01-preview".into()),
                ..generate_args()
            },
            "a stable SDK cannot target the preview api version 2025-05-01-preview",
        ),
        (
            GenerateSdkArgs {
                service: "Health Data".into(),
                ..generate_args()
            },
            "invalid service name `Health Data`: use the spec folder's name, lower-case letters and digits (e.g. `storage`)",
        ),
    ];
    for (args, message) in cases {
        let capture = capture();
        assert!(reliable().generate_sdk(args).await.is_err());
        capture
            .tool("azsdk_generate_sdk")
            .failed()
            .error_type("ValidationError")
            .error_message(message);
        capture.assert_no_leak(API_KEY);
    }
}

#[tokio::test]
async fn generate_sdk_failures_by_type() {
    for (fault, expected) in [
        (Fault::Network, "NetworkError"),
        (Fault::CompileError, "TypeSpecCompilationError"),
        (Fault::PermissionDenied, "IoPermissionDenied"),
    ] {
        let capture = capture();
        assert!(failing(fault).generate_sdk(generate_args()).await.is_err());
        capture
            .tool("azsdk_generate_sdk")
            .failed()
            .error_type(expected)
            .dimension("language", ".NET");
        capture.assert_no_leak(API_KEY);
    }
}

#[tokio::test]
async fn generate_sdk_auth_failures_record_no_message() {
    let capture = capture();
    assert!(failing(Fault::Auth)
        .generate_sdk(generate_args())
        .await
        .is_err());
    let tool = capture
        .tool("azsdk_generate_sdk")
        .failed()
        .error_type("AuthenticationError");
    assert!(!tool.properties().contains_key("errorMessage"));
    capture.assert_no_leak("dev@contoso.onmicrosoft.com");
    capture.assert_no_personal_data();
}

#[tokio::test]
async fn generate_sdk_up_to_date_is_a_success_with_its_type() {
    let capture = capture();
    assert!(failing(Fault::UpToDate)
        .generate_sdk(generate_args())
        .await
        .is_err());
    capture
        .tool("azsdk_generate_sdk")
        .succeeded()
        .error_type("UpToDate");
}

// ---------------------------------------------------------------- run_tests

#[tokio::test]
async fn run_tests_records_mode_and_hides_filters_and_secrets() {
    let capture = capture();
    let run = reliable()
        .run_tests(test_args(TestMode::Playback))
        .await
        .unwrap();
    capture
        .tool("azsdk_run_tests")
        .category("testing")
        .succeeded()
        .no_error()
        .args_exact(json!({
            "service": "storage",
            "language": "Java",
            "mode": "playback",
            "packagePath": true,
            "filter": true,
            "subscriptionId": sha256_hex(SUBSCRIPTION),
        }))
        .dimension("language", "Java")
        .dimension("serviceName", "storage")
        .response(&format!("All {} tests passed", run.passed));
    capture.assert_no_leaks(&[
        CLIENT_SECRET,
        "clientSecret",
        "alice_local_test",
        SUBSCRIPTION,
    ]);
}

#[tokio::test]
async fn failing_tests_are_a_test_failure_with_the_spec_response() {
    let capture = capture();
    let run = failing(Fault::TestFailure)
        .run_tests(test_args(TestMode::Playback))
        .await
        .unwrap();
    assert!(!run.failed.is_empty());
    capture
        .tool("azsdk_run_tests")
        .failed()
        .error_type("TestFailure")
        .error_message(&format!(
            "{} tests failed: {}",
            run.failed.len(),
            run.failed.join(", ")
        ))
        .response("Test execution failed");
}

#[tokio::test]
async fn run_tests_failures_by_type() {
    for (tools, args, expected) in [
        (
            failing(Fault::Network),
            test_args(TestMode::Playback),
            "NetworkError",
        ),
        (
            failing(Fault::Timeout),
            test_args(TestMode::Record),
            "Timeout",
        ),
        (
            reliable(),
            RunTestsArgs {
                subscription_id: None,
                ..test_args(TestMode::Live)
            },
            "ValidationError",
        ),
    ] {
        let capture = capture();
        assert!(tools.run_tests(args).await.is_err());
        capture
            .tool("azsdk_run_tests")
            .failed()
            .error_type(expected);
        capture.assert_no_leak(CLIENT_SECRET);
    }
}

// ---------------------------------------------------------------- run_pr_checks

#[tokio::test]
async fn run_pr_checks_records_languages_and_never_the_token() {
    let capture = capture();
    let checks = reliable().run_pr_checks(pr_args()).await.unwrap();
    capture
        .tool("azsdk_run_pr_checks")
        .category("validating")
        .succeeded()
        .args_exact(json!({
            "service": "cosmosdb",
            "languages": ".NET,Java",
            "parallel": true,
            "prNumber": 31337,
        }))
        .dimension("serviceName", "cosmosdb")
        .no_dimension("language")
        .response(&format!("All {} checks passed", checks.passed.len()));
    capture.assert_no_leaks(&[GITHUB_TOKEN, "githubToken"]);
}

#[tokio::test]
async fn run_pr_checks_failures_by_type() {
    for (tools, args, expected) in [
        (failing(Fault::ChecksFailed), pr_args(), "CheckFailure"),
        (failing(Fault::RateLimit), pr_args(), "RateLimitError"),
        (failing(Fault::Network), pr_args(), "NetworkError"),
        (
            reliable(),
            RunPrChecksArgs {
                github_token: None,
                ..pr_args()
            },
            "ValidationError",
        ),
    ] {
        let capture = capture();
        assert!(tools.run_pr_checks(args).await.is_err());
        capture
            .tool("azsdk_run_pr_checks")
            .failed()
            .error_type(expected);
        capture.assert_no_leak(GITHUB_TOKEN);
    }
}

// ---------------------------------------------------------------- update_package

#[tokio::test]
async fn update_package_records_the_spec_arguments() {
    let capture = capture();
    reliable().update_package(package_args()).await.unwrap();
    capture
        .tool("azsdk_update_package")
        .category("package")
        .succeeded()
        .args_exact(json!({
            "service": "keyvault",
            "version": "4.5.0-beta.2",
            "languages": ".NET,Java,JavaScript,Python,Go",
            "plane": "mgmt",
            "updateChangelog": true,
        }))
        .dimension("serviceName", "keyvault")
        .dimension("planeType", "mgmt")
        .response("Package version updated (5 packages)");
}

#[tokio::test]
async fn update_package_failures_by_type() {
    for (tools, args, expected) in [
        (failing(Fault::Conflict), package_args(), "ConflictError"),
        (
            failing(Fault::PermissionDenied),
            package_args(),
            "IoPermissionDenied",
        ),
        (
            reliable(),
            UpdatePackageArgs {
                version: "4.5".into(),
                ..package_args()
            },
            "ValidationError",
        ),
    ] {
        let capture = capture();
        assert!(tools.update_package(args).await.is_err());
        capture
            .tool("azsdk_update_package")
            .failed()
            .error_type(expected);
    }
}

// ---------------------------------------------------------------- create_release_plan

#[tokio::test]
async fn create_release_plan_never_records_the_owner() {
    let capture = capture();
    reliable().create_release_plan(plan_args()).await.unwrap();
    capture
        .tool("azsdk_create_release_plan")
        .category("release")
        .succeeded()
        .args_exact(json!({
            "service": "storage",
            "languages": "Python",
            "releaseMonth": "2026-01",
            "sdkReleaseType": "stable",
            "plane": "data",
            "specPullRequest": true,
            "tenantId": sha256_hex(TENANT),
        }))
        .response("Release plan created");
    capture.assert_no_leaks(&[EMAIL, "ownerEmail", TENANT, "pull/35000"]);
    capture.assert_no_personal_data();
}

#[tokio::test]
async fn create_release_plan_failures_by_type() {
    for (tools, args, expected) in [
        (failing(Fault::Network), plan_args(), "NetworkError"),
        (
            reliable(),
            CreateReleasePlanArgs {
                release_month: "2026-13".into(),
                ..plan_args()
            },
            "ValidationError",
        ),
        (
            reliable(),
            CreateReleasePlanArgs {
                spec_pull_request: None,
                ..plan_args()
            },
            "ValidationError",
        ),
    ] {
        let capture = capture();
        assert!(tools.create_release_plan(args).await.is_err());
        capture
            .tool("azsdk_create_release_plan")
            .failed()
            .error_type(expected);
    }

    let capture = capture();
    assert!(failing(Fault::Auth)
        .create_release_plan(plan_args())
        .await
        .is_err());
    let tool = capture
        .tool("azsdk_create_release_plan")
        .failed()
        .error_type("AuthenticationError");
    assert!(!tool.properties().contains_key("errorMessage"));
    capture.assert_no_leak(EMAIL);
    capture.assert_no_personal_data();

    let capture = azsdk_telemetry_testkit::capture();
    assert!(failing(Fault::AlreadyExists)
        .create_release_plan(plan_args())
        .await
        .is_err());
    capture
        .tool("azsdk_create_release_plan")
        .succeeded()
        .error_type("AlreadyExists")
        .error_message_contains("already exists");
}

// ---------------------------------------------------------------- a whole flow

#[tokio::test]
async fn the_inner_loop_emits_one_event_per_call_in_order() {
    let capture = capture();
    let tools = reliable();
    tools
        .verify_setup(VerifySetupArgs::default())
        .await
        .unwrap();
    tools.generate_sdk(generate_args()).await.unwrap();
    tools
        .run_tests(test_args(TestMode::Playback))
        .await
        .unwrap();
    tools.run_pr_checks(pr_args()).await.unwrap();
    tools.update_package(package_args()).await.unwrap();
    tools.create_release_plan(plan_args()).await.unwrap();
    capture.assert_tool_sequence(&azsdk_telemetry_examples::tools::TOOL_NAMES);
    capture.assert_event_count("ToolExecuted", 6);
    capture.assert_no_leaks(&[API_KEY, GITHUB_TOKEN, CLIENT_SECRET, EMAIL]);
    capture.assert_no_personal_data();
}
