#!/usr/bin/env python3
"""The in-tree plugins under the conformance harness, against the real
servers the suite starts itself.

    test_inplugins.py postgres DRAY_PLUGIN_TEST PLUGIN_DIR
    test_inplugins.py s3-moto DRAY_PLUGIN_TEST PLUGIN_DIR

postgres: a throwaway PostgreSQL server (tests/fixtures/postgres.sh);
s3-moto: moto_server with a fresh bucket (tests/s3/s3_server.py). Every
shipped scenario must pass or be skipped for a need the plugin lacks
(dray-plugin-test exits 0 only when nothing failed). Exits 77 (skipped)
without the server. The file:// run of the S3 plugin is
harness/s3_files_all (tests/harness/unit/).
"""
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "postgres"))
sys.path.insert(0, os.path.join(HERE, "..", "s3"))

WHAT, TOOL, PLUGINS = sys.argv[1], sys.argv[2], sys.argv[3]


def run_harness(plugin, config_text, env):
    """Runs every scenario; returns the tool's exit status."""
    with tempfile.TemporaryDirectory(prefix="dray-harness-") as tmp:
        cfg = os.path.join(tmp, "dray.yml")
        with open(cfg, "w") as f:
            f.write(config_text)
        junit = os.path.join(tmp, "junit.xml")
        p = subprocess.run([TOOL, os.path.join(PLUGINS, plugin), "-c", cfg,
                            "--junit", junit], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        print(p.stdout, end="")
        return p.returncode


def postgres():
    from pg_server import Server
    server = Server("dray-harness-pg-")
    rc = server.start()
    if rc != 0:
        return rc
    try:
        e = server.env
        dsn = ("host=%s port=%s user=%s dbname=%s sslmode=disable"
               % (e["PGHOST"], e["PGPORT"], e["PGUSER"], e["PGDATABASE"]))
        return run_harness("postgres.so",
                           "destinations:\n"
                           "  - name: pg\n"
                           "    plugin: postgres\n"
                           "    options: {dsn: \"%s\"}\n" % dsn,
                           dict(os.environ))
    finally:
        server.close()


def s3_moto():
    import s3_server
    import s3_util
    if not s3_server.have_moto():
        print("skipped: moto_server or boto3 is not installed")
        return 77
    with s3_server.MotoServer() as moto:
        s3_util.make_bucket(s3_util.client(moto.endpoint), "harness")
        env = dict(os.environ)
        env["AWS_ACCESS_KEY_ID"] = s3_util.DUMMY_KEY_ID
        env["AWS_SECRET_ACCESS_KEY"] = s3_util.DUMMY_SECRET
        return run_harness("s3.so",
                           "destinations:\n"
                           "  - name: lake\n"
                           "    plugin: s3\n"
                           "    options:\n"
                           "      url: \"s3://harness/runs\"\n"
                           "      endpoint: \"%s\"\n"
                           "      path_style: true\n" % moto.endpoint,
                           env)


if __name__ == "__main__":
    sys.exit({"postgres": postgres, "s3-moto": s3_moto}[WHAT]())
