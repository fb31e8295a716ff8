"""S3 test infrastructure, shared by the SDK's S3 client tests and the S3
plugin's end-to-end tests:

- s3_server.MotoServer: moto_server on a free loopback port (no-auth or
  auth mode with an IAM user's access key), stopped by PID;
- fault_proxy.FaultProxy: a proxy in front of it that injects scripted
  faults (503 SlowDown, 500, 409, resets, 200 with an <Error>) and logs
  every request; also runnable as a process;
- s3_util: boto3 helpers to look at what was written.

The modules import nothing from each other (fault_proxy.py takes its
request handler's base from tests/sdk/net/loopback_http.py): put this
folder on sys.path and import them by name (s3_client.py does), or import
them as tests.s3.<module> from the repository root.
"""
