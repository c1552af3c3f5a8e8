#!/usr/bin/env python3
"""How tests/data/gitleaks_rule_examples.jsonl was made (kept for provenance; the tests do
not run it and the project does not need /work/shared).

Input: gitleaks rule_examples.jsonl and gitleaks.toml (gitleaks/gitleaks, MIT, commit
b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b), as collected in the project's shared reference.
For every true positive, the field "secret" is the text that must not survive scrubbing: the
capture group gitleaks itself reports (its rule's secretGroup, else group 1, else the whole
match), computed with Python's `regex` module. Where that module cannot run the Go pattern,
the secret is written by hand in MANUAL below. Examples that contain no secret at all are
kept with "secret": null and a "no_secret_reason".
"""
import json, sys, tomllib
import regex

src_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/secrets/gitleaks"
cfg = tomllib.load(open(f"{src_dir}/gitleaks.toml", "rb"))
rules = {r["id"]: r for r in cfg["rules"]}

MANUAL = {
    '"env": {\n\t\t//"API_TOKEN": "Lj2^5O%xi214"': "Lj2^5O%xi214",
    '     curl -s --insecure --url "imaps://whatever.imap.server" --user\\\n\t\t//"myuserid:mypassword" --request "STATUS INBOX (UNSEEN)"': "mypassword",
}
NO_SECRET = {
    'TOKEN=$(curl -sH "Authorization: Basic $BASIC_TOKEN"': "the credential is the shell variable reference $BASIC_TOKEN; the text holds no credential, and redacting variable references would break the false-positive examples 'Bearer $API_KEY'",
}

out = []
for line in open(f"{src_dir}/rule_examples.jsonl"):
    d = json.loads(line)
    rec = {"rule_id": d["rule_id"], "label": d["label"], "text": d["text"],
           "origin": f'{d["repo"]}@{d["commit"]}:{d["path"]}'}
    if d["label"] == "true_positive":
        text = d["text"]
        secret, reason = None, None
        if text in MANUAL:
            secret = MANUAL[text]
        elif any(text.startswith(k) for k in NO_SECRET):
            reason = next(v for k, v in NO_SECRET.items() if text.startswith(k))
        elif "%s" in text and "xox" in text:
            reason = "Go format template (xoxb-%s-%s): gitleaks fills in random values at test time; the extracted literal holds no secret"
        elif "gitleaks:allow" in text and d["rule_id"] == "jwt":
            reason = "extraction artifact: only the Go source around a JWT built at test time was captured; the literal holds no secret"
        else:
            r = rules[d["rule_id"]]
            rx = regex.compile(r["regex"])
            m = rx.search(text)
            if m is None:
                # Python's regex differs from Go's RE2 on word boundaries next to quotes and
                # escapes; fall back to the token-shaped run the rule targets.
                import re
                m2 = re.search(r"(?:hf_|api_org_)[A-Za-z]{34}", text)
                if not m2:
                    sys.exit(f"no secret for {text!r}")
                secret = m2.group(0)
            else:
                g = r.get("secretGroup")
                if g is None:
                    g = next((i for i in range(1, rx.groups + 1) if m.group(i)), 0)
                secret = m.group(g)
        rec["secret"] = secret
        if reason:
            rec["no_secret_reason"] = reason
    out.append(rec)

with open("gitleaks_rule_examples.jsonl", "w") as f:
    for rec in out:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(len(out), "examples written")
