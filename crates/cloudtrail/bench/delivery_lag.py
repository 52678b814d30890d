"""Delivery lag: how long after its eventTime an event lands in a delivered log file, under load.

Starts a release `rampart serve` with a trail logging everything to the local directory, drives
GetCallerIdentity with the load generator for DURATION seconds, then compares each delivered
record's eventTime with its file's modification time. Prints p50/p99/max lag and the count.

    python3 crates/cloudtrail/bench/delivery_lag.py RAMPART_BIN LOADGEN_BIN [interval_seconds]
"""
import gzip, json, os, pathlib, subprocess, sys, tempfile, time, urllib.request, datetime

import boto3

BIN, LOADGEN = sys.argv[1], sys.argv[2]
INTERVAL = sys.argv[3] if len(sys.argv) > 3 else "300"
DURATION = int(os.environ.get("DURATION", "20"))
PORT = int(os.environ.get("PORT", "4621"))
work = pathlib.Path(tempfile.mkdtemp())
server = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{PORT}", "--data-dir", str(work / "d"),
                           "--log-level", "warn", "--trail-delivery-seconds", INTERVAL],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/_rampart/health", timeout=1)
            break
        except Exception:
            time.sleep(0.1)
    import configparser
    cp = configparser.ConfigParser()
    cp.read(work / "d" / "credentials")
    ak, sk = cp["rampart"]["aws_access_key_id"], cp["rampart"]["aws_secret_access_key"]
    ct = boto3.client("cloudtrail", endpoint_url=f"http://127.0.0.1:{PORT}", region_name="us-east-1",
                      aws_access_key_id=ak, aws_secret_access_key=sk)
    ct.create_trail(Name="lag-trail", S3BucketName="lag-bucket")
    ct.start_logging(Name="lag-trail")
    subprocess.run([LOADGEN, "--endpoint", f"http://127.0.0.1:{PORT}", "--profile", "rampart",
                    "--credentials-file", str(work / "d" / "credentials"), "-d", str(DURATION), "-c", "16",
                    "--service", "sts", "--target-or-action", "GetCallerIdentity", "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    time.sleep(int(INTERVAL) + 3 if int(INTERVAL) < 30 else 5)
    lags = []
    for f in (work / "d" / "trails").rglob("*.json.gz"):
        mtime = f.stat().st_mtime
        for r in json.loads(gzip.decompress(f.read_bytes()))["Records"]:
            t = datetime.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
            lags.append(mtime - t)
    lags.sort()
    pick = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
    print(f"interval {INTERVAL}s: {len(lags)} records delivered; lag p50 {pick(0.5):.2f}s p99 {pick(0.99):.2f}s max {lags[-1]:.2f}s")
finally:
    server.terminate()
    server.wait()
