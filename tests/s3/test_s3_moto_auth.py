#!/usr/bin/env python3
"""The S3 destination against moto with signatures checked: keys that
work, keys that do not, and the credential chain as the plugin uses it.

    test_s3_moto_auth.py DRAY PLUGIN_DIR       (PLUGIN_DIR holds s3.so)

moto checks signatures after INITIAL_NO_AUTH_ACTION_COUNT free requests
(tests/s3/s3_server.py; /work/shared/reference/destinations.md Part 2
P1); the free ones here make an IAM user allowed s3:*, its access key,
and a role allowed s3:* with session credentials of it (AssumeRole), for
the fake instance metadata service. Keys are plain ASCII (moto's auth
mode mishandles others).

- access key and secret in the options: loads;
- a wrong secret, or an unknown key id: the batch is quarantined at the
  first attempt (a configuration error, docs/RUNTIME.md), with a one-line
  reason that names S3's code and the option to fix; nothing written; and
  the secret is in no output of dray and no file of the spool;
- no keys in the options, from the environment (AWS_ACCESS_KEY_ID ...),
  from a profile of ~/.aws/credentials chosen by AWS_PROFILE, or from
  instance metadata (IMDSv2, tests/sdk/net/imds_fake.py serving the
  role's session credentials): each loads.

`dray check` validates the config (and must not print a secret) but does
not call the plugin's own check (host/cmd_check.c), so it cannot report
where the credentials came from; nothing here asserts that.

Exits 77 without moto_server or boto3. ONLY=word runs the tests whose
name holds it.
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "sdk", "net"))
from loopback_http import LoopbackServer  # noqa: E402
from s3_moto_util import (Lake, check, get, list_keys,  # noqa: E402
                          main_with_moto, read_csv, s3_opts)
from s3_server import MotoServer  # noqa: E402
import s3_util  # noqa: E402

M = None
BUCKET = "authbkt"
ROLE = "dray-test-role"


class AuthMoto(MotoServer):
    """moto in auth mode with, besides the IAM user, a role allowed s3:*
    and session credentials of it (key, secret, token) in role_creds."""

    AUTH_ACTIONS = MotoServer.AUTH_ACTIONS + 3

    def __init__(self):
        super().__init__(auth=True)
        self.role_creds = None

    def _make_user(self):
        import boto3
        key = super()._make_user()
        kw = {"endpoint_url": self.endpoint, "region_name": self.region,
              "aws_access_key_id": "bootstrap",
              "aws_secret_access_key": "bootstrap"}
        iam = boto3.client("iam", **kw)
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole"}]})
        arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)[
            "Role"]["Arn"]
        iam.put_role_policy(RoleName=ROLE, PolicyName="s3-all",
                            PolicyDocument=json.dumps({
                                "Version": "2012-10-17", "Statement": [{
                                    "Effect": "Allow", "Action": "s3:*",
                                    "Resource": "*"}]}))
        cr = boto3.client("sts", **kw).assume_role(
            RoleArn=arn, RoleSessionName="dray",
            DurationSeconds=3600)["Credentials"]
        self.role_creds = (cr["AccessKeyId"], cr["SecretAccessKey"],
                           cr["SessionToken"])
        return key


def records(n=3):
    return [{"type": "SCHEMA", "stream": "orders", "key_properties": ["id"],
             "schema": {"type": "object", "properties": {
                 "id": {"type": "integer"}, "s": {"type": "string"}}}}] + \
        [{"type": "RECORD", "stream": "orders",
          "record": {"id": i, "s": "row %d" % i}} for i in range(n)]


def boto():
    key, secret = M.access_key
    return s3_util.client(M.endpoint, key, secret)


def keys_under(c, prefix):
    """Keys under prefix/, listed whole: moto's auth mode rejects the
    signature of a listing whose prefix holds a '/' (its canonical query
    differs from botocore's)."""
    return [k for k in list_keys(c, BUCKET) if k.startswith(prefix + "/")]


def loaded(c, prefix, what):
    keys = keys_under(c, prefix)
    ok = check(len(keys) == 1, "%s: one object: %s" % (what, keys))
    if ok:
        head, rows = read_csv(get(c, BUCKET, keys[0]))
        check([r["id"] for r in rows] == ["0", "1", "2"],
              "%s: the rows: %s" % (what, rows))


def no_secret(lake, secret, texts, what):
    """The secret appears in none of texts nor in the spool's files."""
    where = [i for i, t in enumerate(texts) if secret in t]
    check(not where, "%s: the secret is in dray's output (#%s)"
          % (what, where))
    check(secret not in lake.spool_text(), "%s: the secret is in a file of "
          "the spool" % what)


def dray_check(lake, what, env=None):
    p = lake.dray("check", "-c", lake.cfg, env=env)
    check(p.returncode == 0, "%s: dray check: exit %d %s"
          % (what, p.returncode, p.stderr))
    return p.stdout + p.stderr


def load_and_check(lake, c, prefix, what, run_what, secret):
    """records() put and loaded through lake: `dray check` passes, the
    run loads the rows under prefix/, secret is in no output nor spool
    file. Returns dray's outputs, to look for more secrets in."""
    lake.put(records())
    out = dray_check(lake, what)
    p = lake.run(what=run_what)
    loaded(c, prefix, what)
    texts = [out, p.stdout, p.stderr]
    no_secret(lake, secret, texts, what)
    return texts


def opts(prefix, **kw):
    key, secret = M.access_key
    return s3_opts(M.endpoint, BUCKET, prefix, **dict(
        {"access_key_id": key, "secret_access_key": secret}, **kw))


# ---- keys in the options ----

def test_valid_key():
    c = boto()
    lake = Lake("ok", {"lake": opts("ok")})
    try:
        load_and_check(lake, c, "ok", "valid key", "valid key",
                       M.access_key[1])
    finally:
        lake.close()


def bad_key(name, options, code, fix, secret):
    c = boto()
    lake = Lake(name, {"lake": options},
                run={"retry": {"attempts": 5, "initial": "50ms",
                               "max": "100ms"}})
    try:
        lake.put(records())
        bid = lake.batch_ids()
        out = dray_check(lake, name)
        p = lake.run(expect_exit=4, what=name)
        st = lake.status()
        q = st.get("quarantined", [])
        reason = q[0].get("reason", "") if len(q) == 1 else ""
        check(reason.startswith("E_CONFIG") and code in reason and
              fix in reason and "\n" not in reason,
              "%s: quarantined as a configuration error, the reason naming "
              "%s and %s: %s" % (name, code, fix, q))
        lines = [x for x in p.stderr.splitlines() if code in x]
        check(lines and all(fix in x for x in lines),
              "%s: dray run's error names %s and the fix: %s"
              % (name, code, p.stderr))
        check("signal" not in p.stderr and "worker death" not in p.stderr,
              "%s: no crash: %s" % (name, p.stderr))
        show = lake.dray("quarantine", "show", bid[0], "-c", lake.cfg)
        check("attempts 1," in show.stdout and
              "retryable failures 0" in show.stdout,
              "%s: one attempt, not retried: %s" % (name, show.stdout))
        check(keys_under(c, name) == [] and
              s3_util.uploads_in_progress(c, BUCKET) == [],
              "%s: nothing written" % name)
        no_secret(lake, secret, [out, p.stdout, p.stderr,
                                 json.dumps(st), show.stdout, show.stderr],
                  name)
    finally:
        lake.close()


def test_wrong_secret():
    wrong = "WrongSecretMustNotLeak0123456789abcdefXY"
    bad_key("wrongsecret", opts("wrongsecret", secret_access_key=wrong),
            "SignatureDoesNotMatch", "secret_access_key", wrong)


def test_unknown_key_id():
    secret = M.access_key[1]
    bad_key("unknownkey", opts("unknownkey",
                               access_key_id="AKIAUNKNOWN000000000"),
            "InvalidAccessKeyId", "access_key_id", secret)


# ---- the credential chain ----

def chain_lake(name, env, **kw):
    return Lake(name, {"lake": s3_opts(M.endpoint, BUCKET, name,
                                       access_key_id=None,
                                       secret_access_key=None, **kw)},
                env=env)


def test_environment():
    key, secret = M.access_key
    c = boto()
    lake = chain_lake("envkeys", {"AWS_ACCESS_KEY_ID": key,
                                  "AWS_SECRET_ACCESS_KEY": secret})
    try:
        load_and_check(lake, c, "envkeys", "environment",
                       "keys from the environment", secret)
    finally:
        lake.close()


def test_profile():
    """~/.aws/credentials (HOME is the Lake's folder) with a default
    profile that would fail and the one AWS_PROFILE names."""
    key, secret = M.access_key
    c = boto()
    lake = chain_lake("profile", {"AWS_PROFILE": "dray-test"})
    try:
        os.makedirs(os.path.join(lake.tmp, ".aws"))
        with open(os.path.join(lake.tmp, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIAWRONGDEFAULT0000\n"
                    "aws_secret_access_key = wrong\n\n"
                    "[dray-test]\naws_access_key_id = %s\n"
                    "aws_secret_access_key = %s\n" % (key, secret))
        load_and_check(lake, c, "profile", "profile", "keys from a profile",
                       secret)
    finally:
        lake.close()


class Imds(LoopbackServer):
    """tests/sdk/net/imds_fake.py (IMDSv2: token, role, credentials) in a
    thread of this process, serving the role's session credentials."""

    def __init__(self, creds):
        import imds_fake
        key, secret, token = creds

        class State(imds_fake.State):
            def creds_doc(self, prefix, n):
                doc = json.loads(super().creds_doc(prefix, n))
                doc.update(AccessKeyId=key, SecretAccessKey=secret,
                           Token=token)
                return json.dumps(doc).encode()

        imds_fake.S = State(argparse.Namespace(
            secret=secret, container_token=None, role=ROLE))
        self.state = imds_fake.S
        super().__init__(imds_fake.Handler)


def test_instance_metadata():
    c = boto()
    imds = Imds(M.role_creds)
    lake = chain_lake("imds", {"AWS_EC2_METADATA_DISABLED": None,
                               "AWS_EC2_METADATA_SERVICE_ENDPOINT":
                                   imds.endpoint})
    try:
        texts = load_and_check(lake, c, "imds", "instance metadata",
                               "keys from instance metadata",
                               M.role_creds[1])
        calls = dict(imds.state.calls)
        check(calls["token"] >= 1 and calls["creds"] >= 1,
              "the metadata service was asked (IMDSv2): %s" % calls)
        no_secret(lake, M.role_creds[2], texts, "instance metadata (token)")
    finally:
        lake.close()
        imds.close()


TESTS = [test_valid_key, test_wrong_secret, test_unknown_key_id,
         test_environment, test_profile, test_instance_metadata]


if __name__ == "__main__":
    M = AuthMoto()
    main_with_moto(M, TESTS,
                   ready=lambda: s3_util.make_bucket(boto(), BUCKET))
