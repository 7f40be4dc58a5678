"""The AWS side of tests/arm64/smoke, against moto's server: `provision` creates what
infra/template.yaml declares for the functions (as tests/src/harness.rs does for the Rust tests),
an election whose dates are around today (the functions run on the real clock) and the sample
roll, and writes the functions' environment and the two events; `check-roll` and `check-signup`
say whether the arm64 functions did what a county and a voter would see.

Usage: python smoke.py ENDPOINT WORK_DIR provision|check-roll|check-signup|check-not-sent
       python smoke.py ENDPOINT WORK_DIR check-batch NAME
"""

import datetime
import json
import os
import re
import sys

import boto3

endpoint, work, step = sys.argv[1], sys.argv[2], sys.argv[3]
repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
prefix = "smoke"
region = "us-east-1"
kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="test", aws_secret_access_key="test")
ddb, s3 = boto3.client("dynamodb", **kw), boto3.client("s3", **kw)
bucket = f"{prefix}-incoming"
roll_key = "incoming/votecal/voters/voters.csv"


def fail(why):
    print(f"arm64 smoke: FAILED: {why}")
    sys.exit(1)


def table(name, range_key=False, index=None, stream=False):
    """One table as the template declares it: `index` is (attribute, index name, projection)."""
    keys = [("pk", "HASH")] + ([("sk", "RANGE")] if range_key else [])
    args = dict(
        TableName=f"{prefix}-{name}",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": a, "KeyType": k} for a, k in keys],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
    )
    if index:
        attribute, index_name, projection = index
        args["AttributeDefinitions"].append({"AttributeName": attribute, "AttributeType": "S"})
        args["GlobalSecondaryIndexes"] = [{"IndexName": index_name, "KeySchema": [{"AttributeName": attribute, "KeyType": "HASH"}], "Projection": {"ProjectionType": projection}}]
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ddb.create_table(**args)


def provision():
    table("voters", index=("identity", "identity", "ALL"))
    for name in ["subscriptions", "imb", "access"]:
        table(name)
    table("ledger", index=("provider_id", "by_provider", "KEYS_ONLY"))
    table("held", True)
    table("kept", True)
    table("journeys", True, stream=True)
    sqs = boto3.client("sqs", **kw)
    urls = {q: sqs.create_queue(QueueName=f"{prefix}-{q}")["QueueUrl"] for q in ["sms", "email", "voice", "ingest-continue"]}
    s3.create_bucket(Bucket=bucket)
    boto3.client("events", **kw).create_event_bus(Name=f"{prefix}-bus")
    boto3.client("scheduler", **kw).create_schedule_group(Name=f"{prefix}-release")
    boto3.client("sesv2", **kw).create_email_identity(EmailIdentity="notify@example.gov")
    secret = boto3.client("secretsmanager", **kw).create_secret(Name=f"{prefix}-signing-key", SecretString="smoke0test0signing0key0of0forty0eight0characters")
    # The sample election, moved to 21 days from today: sign-ups are taken while it is tracked.
    day = datetime.date.today() + datetime.timedelta(days=21)
    text = open(os.path.join(repo, "events/sample-election/election.toml"), encoding="utf-8").read()
    text = re.sub(r'(?m)^id = ".*"$', f'id = "{day}-SMOKE"', text)
    text = re.sub(r'(?m)^date = ".*"$', f'date = "{day}"', text)
    s3.put_object(Bucket=bucket, Key=f"config/elections/{day}-SMOKE.toml", Body=text.encode())
    s3.put_object(Bucket=bucket, Key="config/voice-prompts.toml", Body=open(os.path.join(repo, "events/sample-election/voice-prompts.toml"), "rb").read())
    roll = open(os.path.join(repo, "events/sample-election/voters.csv"), "rb").read()
    s3.put_object(Bucket=bucket, Key=roll_key, Body=roll)

    env = {
        "VOTERS_TABLE": f"{prefix}-voters", "SUBSCRIPTIONS_TABLE": f"{prefix}-subscriptions", "JOURNEYS_TABLE": f"{prefix}-journeys",
        "LEDGER_TABLE": f"{prefix}-ledger", "HELD_TABLE": f"{prefix}-held", "IMB_TABLE": f"{prefix}-imb",
        "ACCESS_TABLE": f"{prefix}-access", "KEPT_TABLE": f"{prefix}-kept",
        "SMS_QUEUE_URL": urls["sms"], "EMAIL_QUEUE_URL": urls["email"], "VOICE_QUEUE_URL": urls["voice"],
        "INGEST_CONTINUE_QUEUE_URL": urls["ingest-continue"], "BUCKET": bucket, "EVENT_BUS_NAME": f"{prefix}-bus",
        "SCHEDULE_GROUP": f"{prefix}-release", "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/wmb-scheduler",
        "RELEASE_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:wmb-release",
        "EMAIL_FROM": "notify@example.gov", "SIGNING_KEY_SECRET_ARN": secret["ARN"],
        "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
    }
    with open(os.path.join(work, "env"), "w") as f:
        for k, v in env.items():
            f.write(f"{k}={v}\n")

    # The events, from the repository's samples (events/lambda), naming this bucket and key.
    event = json.load(open(os.path.join(repo, "events/lambda/s3-put.json")))
    event["Records"][0]["s3"]["bucket"]["name"] = bucket
    event["Records"][0]["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    event["Records"][0]["s3"]["object"]["key"] = roll_key
    event["Records"][0]["s3"]["object"]["size"] = len(roll)
    json.dump(event, open(os.path.join(work, "roll-event.json"), "w"))
    event = json.load(open(os.path.join(repo, "events/lambda/signup-apigw.json")))
    json.dump(event, open(os.path.join(work, "signup-event.json"), "w"))
    # The other functions' sample events, naming the election defined here.
    for name in ["dynamodb-stream", "sqs-notification", "release", "ses-bounce-sns", "inbound-sms-sns", "connect-press-9"]:
        text = open(os.path.join(repo, f"events/lambda/{name}.json"), encoding="utf-8").read()
        open(os.path.join(work, f"{name}.json"), "w", encoding="utf-8").write(text.replace("2026-11-03-GEN", f"{day}-SMOKE"))
    # The voice sender's queue message: the same message, to be spoken.
    voice = json.load(open(os.path.join(work, "sqs-notification.json")))
    body = json.loads(voice["Records"][0]["body"])
    body["key"], body["channel"] = body["key"].replace("#sms", "#voice"), "voice"
    voice["Records"][0]["body"] = json.dumps(body)
    json.dump(voice, open(os.path.join(work, "sqs-voice.json"), "w"))
    json.dump({}, open(os.path.join(work, "daily-summary.json"), "w"))


def check_roll():
    rows = len(open(os.path.join(repo, "events/sample-election/voters.csv"), encoding="utf-8").read().splitlines()) - 1
    voters = ddb.scan(TableName=f"{prefix}-voters", Select="COUNT")["Count"]
    if voters != rows:
        fail(f"the roll's {rows} rows should be {rows} voters on the voters table, found {voters}")
    reports = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/").get("Contents", [])]
    if not reports:
        fail("the roll file has no report under reports/")
    print(f"arm64 smoke: ingest read the roll: {voters} voters stored, report {', '.join(reports)}")


def check_signup():
    answer = json.load(open(os.path.join(work, "signup", "smoke-0.response.json")))
    if answer.get("statusCode") != 202:
        fail(f"the sign-up was answered {answer.get('statusCode')}: {answer.get('body')}")
    pending = ddb.scan(TableName=f"{prefix}-access", Select="COUNT")["Count"]
    if pending == 0:
        fail("the sign-up was answered 202 but no pending change was stored")
    print(f"arm64 smoke: the sign-up was answered 202 ({answer.get('body')}); {pending} items on the access table")


def check_batch():
    """Each answer of a batch function (queue, stream) names no record to be tried again."""
    name = sys.argv[4]
    answer = json.load(open(os.path.join(work, name, "smoke-0.response.json")))
    failures = answer.get("batchItemFailures")
    if failures:
        fail(f"{name} asked for {len(failures)} record(s) to be tried again: {answer}")


def check_not_sent():
    """A queued message that nothing in the store bears out is not sent: no ledger record."""
    sent = ddb.scan(TableName=f"{prefix}-ledger", Select="COUNT")["Count"]
    if sent:
        fail(f"{sent} message(s) recorded as sent, for a ballot status the store does not hold")
    print("arm64 smoke: the sample's queued text and call (a status of Emily Chen's ballot the store does not hold; her contacts not proven) were not sent")


{"provision": provision, "check-roll": check_roll, "check-signup": check_signup, "check-batch": check_batch, "check-not-sent": check_not_sent}[step]()
