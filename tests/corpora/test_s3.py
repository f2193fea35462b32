"""Corpora read from S3: moto's S3 server on 127.0.0.1 and the real s3fs client, pointed at it as at MinIO or R2.

The client finds the server only through the environment (``AWS_ENDPOINT_URL`` and test credentials), as a user's
would: a test that passes has read every byte over the S3 protocol.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("s3fs", reason="s3:// needs s3fs: pip install 'compressbench[s3]'")
moto_server = pytest.importorskip("moto.server", reason="the S3 server these tests read from: pip install 'moto[server]'")

from compressbench.data.remote import expand  # noqa: E402
from tests.conftest import cli  # noqa: E402
from tests.corpora.build import (  # noqa: E402
    LANGUAGES, TEXT_CORPUS_LABELS, measure, text_corpus, texts, tokens_by, write_jsonl, write_parquet,
)

BUCKET = "bucket"
GROUP = 4  # rows per row group of lines.parquet


def _lines() -> list[dict[str, str]]:
    """A few non-empty lines of every UDHR translation: many short records."""
    return [{"lang": lang, "text": line} for lang, text in texts().items()
            for line in text.splitlines()[:6] if line.strip()]


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Path:
    """What the bucket holds, on disk: corpus/ (four formats), texts/ (loose UDHR files), bad/, lines.parquet."""
    root = tmp_path_factory.mktemp("s3")
    (root / "corpus").mkdir()
    text_corpus(root / "corpus")
    (root / "texts").mkdir()
    for lang in LANGUAGES:
        (root / "texts" / f"{lang}.txt").write_text(texts()[lang], encoding="utf-8")
    lines = _lines()
    (root / "bad").mkdir()
    truncated = write_jsonl(root / "bad" / "lines.jsonl.gz", lines)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    shutil.copy(root / "texts" / "eng.txt", root / "bad" / "eng.txt")
    write_parquet(root / "lines.parquet", {"lang": [r["lang"] for r in lines], "text": [r["text"] for r in lines]},
                  row_group_size=GROUP)
    return root


@pytest.fixture(scope="module")
def endpoint(local) -> Iterator[dict[str, str]]:
    """An S3 server holding ``local`` in s3://bucket/, and the environment that points a client at it."""
    import boto3
    import s3fs

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    s3fs.S3FileSystem.clear_instance_cache()  # a cached client keeps the endpoint it was made with
    client.create_bucket(Bucket=BUCKET)
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        client.put_object(Bucket=BUCKET, Key=path.relative_to(local).as_posix(), Body=path.read_bytes())
    try:
        yield env
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


# What else in a user's environment would send the client elsewhere, or with other credentials.
_ELSEWHERE = ("AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@pytest.fixture
def s3_env(endpoint, monkeypatch) -> dict[str, str]:
    """This process's environment pointed at the server (undone after the test); the variables, for subprocesses."""
    for name in _ELSEWHERE:
        monkeypatch.delenv(name, raising=False)
    for name, value in endpoint.items():
        monkeypatch.setenv(name, value)
    return endpoint


@pytest.fixture(scope="module")
def text_tokenizers(tokenizer):
    return [tokenizer("bytes", "cpu"), tokenizer("tiktoken:cl100k_base", "cpu")]


def test_every_format_reads_as_it_does_from_disk(s3_env, local, text_tokenizers):
    assert expand(f"s3://{BUCKET}/corpus/*.parquet") == [f"s3://{BUCKET}/corpus/b.parquet"]
    assert expand(f"s3://{BUCKET}/texts/") == [f"s3://{BUCKET}/texts/{lang}.txt" for lang in sorted(LANGUAGES)]
    assert expand(f"s3://{BUCKET}/nope.txt") is None
    for name, label in TEXT_CORPUS_LABELS.items():
        url = f"s3://{BUCKET}/corpus/{name}"
        remote = measure([url], "text", text_tokenizers, language=label)
        disk = measure([str(local / "corpus" / name)], "text", text_tokenizers, language=label)
        assert all(r["error"] is None and r["sample"].startswith(url) for r in remote), name
        assert len(remote) == len(disk) == len(LANGUAGES) * len(text_tokenizers), name
        assert tokens_by(remote, "language") == tokens_by(disk, "language"), name
        assert {(r["tokenizer"], r["language"]) for r in remote} == \
            {(t.name, lang) for t in text_tokenizers for lang in LANGUAGES}, name


def test_the_cli_measures_an_s3_folder_as_the_local_one(s3_env, local):
    def tokens(*paths: str, env: dict[str, str] | None = None) -> dict[str, int]:
        proc = cli("measure", "--tokenizer", "tiktoken:cl100k_base", "--json", *paths, env=env)
        assert proc.returncode == 0, proc.stderr
        return {Path(r["sample"]).name: r["tokens"] for r in json.loads(proc.stdout)["results"]}

    remote = tokens(f"s3://{BUCKET}/texts/", env=s3_env)
    assert remote == tokens(str(local / "texts")) and sorted(remote) == sorted(f"{g}.txt" for g in LANGUAGES)
    assert all(n > 0 for n in remote.values())


def test_a_missing_and_a_truncated_object_are_error_rows(s3_env, text_tokenizers):
    missing, truncated, fine = (f"s3://{BUCKET}/nope.txt", f"s3://{BUCKET}/bad/lines.jsonl.gz",
                                f"s3://{BUCKET}/bad/eng.txt")
    rows = measure([missing, truncated, fine], "text", text_tokenizers[:1])
    errors = [r for r in rows if r["error"]]
    assert [r["error"] for r in errors[:1]] == [f"{missing}: no such file, folder or match"]
    assert len(errors) == 2 and all("\n" not in r["error"] for r in errors)
    last = errors[1]
    index = int(last["sample"].rsplit("#", 1)[1])
    assert last["sample"] == f"{truncated}#{index}" and last["error"].startswith(
        f"{truncated}#{index}: cannot read record {index} or any after it (EOFError")
    lines = _lines()
    read = [r for r in rows if r["sample"].startswith(f"{truncated}#") and r["error"] is None]
    assert 0 < len(read) == index < len(lines)
    assert [r["tokens"] for r in read] == [len(line["text"].encode()) for line in lines[:index]]
    assert [(r["sample"], r["tokens"]) for r in rows if r["sample"] == fine] == [(fine, len(texts()["eng"].encode()))]


def test_shards_read_each_row_group_once(s3_env, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(f'tokenizers = ["bytes"]\n[[datasets]]\nname = "lines"\nmodality = "text"\n'
                     f'paths = ["s3://{BUCKET}/lines.parquet"]\n')
    groups: list[list[int]] = []
    for k in (1, 2):
        proc = cli("run", str(suite), "--shard", f"{k}/2", "--out", str(tmp_path / f"s{k}"), env=s3_env)
        assert proc.returncode == 0, proc.stderr
        samples = [json.loads(line)["sample"] for line in (tmp_path / f"s{k}" / "results.jsonl").open()]
        assert all(s.startswith(f"s3://{BUCKET}/lines.parquet#") for s in samples)
        groups.append([int(s.rsplit("#", 1)[1]) for s in samples])
    count = len(_lines())
    assert count // GROUP >= 4 and sorted(groups[0] + groups[1]) == list(range(count))  # every record once
    owned = [{i // GROUP for i in g} for g in groups]
    assert owned[0] and owned[1] and not owned[0] & owned[1]  # a real split, by whole row groups


def test_an_unreachable_endpoint_is_one_line(s3_env):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    url = f"s3://{BUCKET}/texts/"
    proc = cli("measure", "-t", "bytes", url, env={**s3_env, "AWS_ENDPOINT_URL": closed, "AWS_MAX_ATTEMPTS": "1"})
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"compressbench: error: {url}: cannot list (EndpointConnectionError: ")
    assert closed in proc.stderr and proc.stderr.rstrip().endswith("AWS_ENDPOINT_URL")
