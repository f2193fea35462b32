"""Text tokenized in worker processes counts exactly as in one process.

Past a dataset's first ``text_in_process_bytes`` the runner hands text to its workers
(compressbench.textjobs). The truth here is the same suite run in one process (itself held to the bare
libraries by tests/test_text_adapters.py): every row but its timings, the token-id counts and the
summary must be the same. A test tokenizer leaves a file per process that counted,
so the tests also see that the workers did the work; another dies of a real segmentation fault.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from compressbench import get_tokenizer
from compressbench.adapters._text import cores
from compressbench.data.suite import parse_suite
from compressbench.data.sampling import SampleSpec
from compressbench.runner import RunOptions, run_suite
from compressbench.textjobs import TextJob, build, jobs, recipes
from tests.conftest import HF_JSON, SP_MODEL, UDHR
from tests.corpora.build import write_jsonl
from tests.worker_tokenizers import Longest, MainOnly, Segfault, Witness

SPECS = ["bytes", "tiktoken:cl100k_base", f"hf:{HF_JSON}", f"sp:{SP_MODEL}"]
TIMINGS = ("seconds", "decode_seconds")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The UDHR cut into 2 KB files in two folders, and the same pieces as JSONL.gz records with a language."""
    root = tmp_path_factory.mktemp("corpus")
    records = []
    for path in sorted(UDHR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for i in range(0, min(len(text), 8000), 2000):
            folder = root / ("a" if i % 4000 else "b")
            folder.mkdir(exist_ok=True)
            (folder / f"{path.stem}-{i}.txt").write_text(text[i:i + 2000], encoding="utf-8")
            records.append({"text": text[i:i + 2000], "lang": path.stem})
    write_jsonl(root / "records.jsonl.gz", records)
    return root


def _suite(root: Path, specs: list[str], **dataset: Any):
    return parse_suite({"tokenizers": specs, "datasets": [
        {"name": "files", "modality": "text", "paths": ["a", "b"], "language": "{stem}", **dataset},
        {"name": "records", "modality": "text", "paths": ["records.jsonl.gz"], "language": "{field:lang}"}]},
        source="test", base=root)


def _run(suite, tokenizers, options: RunOptions, **kwargs: Any) -> tuple[list[dict], list[dict], Any]:
    rows: list[dict] = []
    ids: list[dict] = []
    result = run_suite(suite, tokenizers=tokenizers, emit=rows.append, emit_ids=ids.append, options=options, **kwargs)
    return [{k: v for k, v in r.items() if k not in TIMINGS} for r in rows], ids, result


def _summary(result) -> dict:
    """The datasets and each group's summary, less what measures time."""
    timed = {"seconds", "decode_seconds", "raw_mb_per_s", "tokens_per_s"}
    def untimed(aggregate) -> dict:
        return {m: v for m, v in aggregate.summary().items() if m not in timed}

    return {"datasets": result.datasets,
            "groups": {"|".join(k): {"total": untimed(g.total), "ids": g.ids.total, "samples_with_ids": g.ids.samples,
                                     **{f"language {lang}": untimed(a) for lang, a in sorted(g.languages.items())}}
                       for k, g in result.groups.items()}}


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["dataset"], r["tokenizer"], r["sample"]))


def _pieces(corpus: Path) -> int:
    return sum(1 for _ in corpus.rglob("*.txt"))


def _pids(folder: Path) -> set[int]:
    return {int(p.name) for p in folder.iterdir()}


@pytest.mark.parametrize("in_process_bytes", [0, 30_000], ids=["all-in-workers", "then-workers"])
def test_workers_count_exactly_as_one_process(corpus, tmp_path, in_process_bytes):
    tokenizers = [get_tokenizer(s, base=corpus) for s in SPECS]
    alone, together = tmp_path / "alone", tmp_path / "together"
    alone.mkdir(), together.mkdir()
    suite = _suite(corpus, SPECS)
    expected = _run(suite, tokenizers + [Witness(Witness.Config(str(alone)))], RunOptions(workers=1))
    got = _run(suite, tokenizers + [Witness(Witness.Config(str(together)))],
               RunOptions(workers=2, text_in_process_bytes=in_process_bytes))
    assert len(expected[0]) == 2 * 5 * _pieces(corpus) and not any(r["error"] for r in expected[0])
    # the same rows and token-id lines; their order follows batch boundaries, which the switch may move
    assert _sorted(got[0]) == _sorted([{**r, "tokenizer": r["tokenizer"].replace(str(alone), str(together))}
                                       for r in expected[0]])
    assert _sorted(got[1]) == _sorted(expected[1])
    assert json.dumps(_summary(got[2]), default=str).replace(str(together), "") == \
        json.dumps(_summary(expected[2]), default=str).replace(str(alone), "")
    assert _pids(alone) == {os.getpid()}
    workers = _pids(together) - {os.getpid()}
    assert len(workers) >= 1  # the workers counted (two of them, unless one took every job)
    assert (os.getpid() in _pids(together)) == (in_process_bytes > 0)


def test_a_tokenizer_that_crashes_its_worker_fails_that_record_only(corpus, tmp_path):
    root = tmp_path / "texts"
    root.mkdir()
    names = [f"{i:02d}.txt" for i in range(12)]
    for i, name in enumerate(names):
        (root / name).write_text(("CRASH " if i == 5 else "") + f"text number {i} " * 40, encoding="utf-8")
    suite = parse_suite({"tokenizers": ["bytes"], "datasets": [{"name": "t", "modality": "text", "paths": ["."]}]},
                        source="test", base=root)
    bytes_ = get_tokenizer("bytes")
    rows, _, result = _run(suite, [Segfault(Segfault.Config()), bytes_],
                           RunOptions(workers=2, text_in_process_bytes=0, batch_size=4))
    by = {(r["tokenizer"], r["sample"]): r for r in rows}
    assert len(rows) == 24
    for tokenizer in ("segfault", "bytes"):  # the worker died with both tokenizers' work on that record
        assert by[(tokenizer, "05.txt")]["error"] == \
            "05.txt: worker crashed: signal 11 while reading and tokenizing 05.txt (SIGSEGV)"
    for name in names[:5] + names[6:]:
        size = (root / name).stat().st_size
        assert by[("segfault", name)]["tokens"] == by[("bytes", name)]["tokens"] == size
    assert result.datasets["t"]["samples"] == 12


def test_a_resumed_run_in_workers_measures_only_what_is_missing(corpus):
    specs = ["bytes", f"sp:{SP_MODEL}"]
    tokenizers = [get_tokenizer(s, base=corpus) for s in specs]
    suite = _suite(corpus, specs)
    full, ids, whole = _run(suite, tokenizers, RunOptions(workers=1))
    missing = [r for i, r in enumerate(full) if r["tokenizer"] != "bytes" and i % 3 == 0]
    kept = [r for r in full if r not in missing]
    new, _, resumed = _run(suite, tokenizers, RunOptions(workers=2, text_in_process_bytes=0), prior_rows=kept,
                           prior_ids=ids)  # the lines of rows that are not kept are dropped
    assert new == missing
    assert _summary(resumed) == _summary(whole)


def test_a_sample_of_whole_units_in_workers_names_the_units(corpus):
    tokenizers = [get_tokenizer("bytes")]
    suite = _suite(corpus, ["bytes"])
    spec = SampleSpec.parse("40%", seed=3, sample_by="unit")
    expected, _, _ = _run(suite, tokenizers, RunOptions(workers=1), sampling=spec)
    got, _, _ = _run(suite, tokenizers, RunOptions(workers=2, text_in_process_bytes=0), sampling=spec)
    assert got == expected and got and all(r["unit"] for r in got)


def test_a_long_file_is_a_job_of_its_own_with_every_core(corpus, tmp_path):
    """A file read in pieces is not batched with others and tokenizes over all cores of its worker; its
    counts in a worker equal one process's."""
    long = tmp_path / "long"
    long.mkdir()
    (long / "big.txt").write_text((UDHR / "eng.txt").read_text(encoding="utf-8") * 3, encoding="utf-8")
    for i in range(3):
        (long / f"small{i}.txt").write_text(f"small text {i}", encoding="utf-8")
    suite = parse_suite({"tokenizers": ["bytes"], "datasets": [
        {"name": "t", "modality": "text", "paths": ["."], "options": {"stream_above_bytes": 10_000}}]}, source="test", base=long)
    tok = [get_tokenizer("tiktoken:cl100k_base")]
    template = TextJob(key="k", recipes=recipes(tok), options=RunOptions(),
                       dataset=suite.datasets[0], records=[], pending=[], by_unit=False)
    from compressbench.data import reading
    ds = suite.datasets[0]
    records = [r for u in reading.units(ds) for r in reading.records(ds, u, max_bytes=1 << 30)]
    made = list(jobs(template, ((r, (0,)) for r in records), batch_size=64))
    assert [[r.id for r in j.records] for j in made] == [["big.txt"], ["small0.txt", "small1.txt", "small2.txt"]]
    assert [j.threads for j in made] == [cores(), 1]
    expected, _, _ = _run(suite, tok, RunOptions(workers=1))
    got, _, _ = _run(suite, tok, RunOptions(workers=2, text_in_process_bytes=0))
    assert got == expected and expected[0]["forced_cuts"] == 0 and expected[0]["tokens"] > 5000


def test_a_tokenizer_another_process_cannot_build_stays_in_this_one(corpus, tmp_path):
    class Local(Witness):  # defined in a function: a worker could not import it
        family = "local-witness"

    local = Local(Local.Config(str(tmp_path)))
    assert recipes([get_tokenizer("bytes"), local]) is None
    assert [t.name for t in build(recipes([get_tokenizer(f"sp:{SP_MODEL}")]))] == [f"sp:{SP_MODEL}"]
    rows, _, _ = _run(_suite(corpus, ["bytes"]), [get_tokenizer("bytes"), local],
                      RunOptions(workers=2, text_in_process_bytes=0))
    assert len(rows) == 2 * 2 * _pieces(corpus) and not any(r["error"] for r in rows)
    assert _pids(tmp_path) == {os.getpid()}  # the whole dataset, with every tokenizer, ran here


def test_a_batch_a_worker_cannot_run_is_measured_here(corpus, tmp_path):
    """A tokenizer that does not build in a worker: its batches come back failed and are measured in the
    main process, with one warning; nothing is lost."""
    tokenizers = [get_tokenizer("bytes"), MainOnly(MainOnly.Config(str(tmp_path)))]
    suite = _suite(corpus, ["bytes"])
    expected, _, _ = _run(suite, tokenizers, RunOptions(workers=1))
    with pytest.warns(UserWarning, match=r"a text worker could not run a batch \(RuntimeError: this tokenizer's "
                                         r"files are not here\); such batches are measured in the main process"):
        got, _, _ = _run(suite, tokenizers, RunOptions(workers=2, text_in_process_bytes=0))
    assert _sorted(got) == _sorted(expected) and not any(r["error"] for r in got)
    assert _pids(tmp_path) == {os.getpid()}


def test_a_tokenizer_class_a_worker_cannot_import_is_measured_here(corpus, tmp_path, monkeypatch):
    """A class that pickles here but not in a worker (one a notebook or ``python -c`` defines in
    ``__main__``; here a module that exists only in this process) fails its batches, not the workers:
    they are measured in the main process, with one warning, and no record becomes an error row."""
    import sys
    import types

    ghost = types.ModuleType("compressbench_ghost")
    Ghost = type("Ghost", (Witness,), {"family": "ghost-witness", "__module__": ghost.__name__})
    ghost.Ghost = Ghost
    monkeypatch.setitem(sys.modules, ghost.__name__, ghost)
    tokenizer = Ghost(Ghost.Config(str(tmp_path)))
    assert recipes([tokenizer]) is not None  # it pickles here, by reference
    suite = _suite(corpus, ["bytes"])
    with pytest.warns(UserWarning, match=r"a text worker could not run a batch \(ModuleNotFoundError"):
        got, _, _ = _run(suite, [tokenizer], RunOptions(workers=2, text_in_process_bytes=0))
    expected, _, _ = _run(suite, [tokenizer], RunOptions(workers=1))
    assert _sorted(got) == _sorted(expected) and not any(r["error"] for r in got)
    assert _pids(tmp_path) == {os.getpid()}


def test_counts_a_worker_would_aggregate_otherwise_are_aggregated_here(corpus):
    """A family registered in this process's own code (not on import): a worker would sum its declared
    maximum, so its batches come back and are measured here, with a warning."""
    from compressbench.core import registry

    registry.register_tokenizer(Longest)
    try:
        tokenizers = [Longest(Longest.Config())]
        suite = _suite(corpus, ["bytes"])
        _, _, expected = _run(suite, tokenizers, RunOptions(workers=1))
        with pytest.warns(UserWarning, match="counts are declared differently here than in the main process"):
            _, _, got = _run(suite, tokenizers, RunOptions(workers=2, text_in_process_bytes=0))
    finally:
        registry._entries.pop(Longest.family, None)
        registry._counts = None
    assert _summary(got) == _summary(expected)
    longest = got.groups[("files", "text", "longest-word")].total.summary()["longest_word"]
    assert longest == max(len(w) for p in corpus.rglob("*.txt") for w in p.read_text(encoding="utf-8").split())


def test_a_memory_filesystem_dataset_stays_in_this_process(corpus):
    """Workers cannot see this process's memory:// files: such a dataset is measured here."""
    import fsspec

    fs = fsspec.filesystem("memory")
    try:
        for path in sorted((corpus / "a").glob("*.txt"))[:6]:
            fs.pipe(f"/workers-test/{path.name}", path.read_bytes())
        suite = parse_suite({"tokenizers": ["bytes"], "datasets": [
            {"name": "m", "modality": "text", "paths": ["memory://workers-test"]}]}, source="test", base=corpus)
        tokenizers = [get_tokenizer("bytes")]
        expected, _, _ = _run(suite, tokenizers, RunOptions(workers=1))
        got, _, _ = _run(suite, tokenizers, RunOptions(workers=2, text_in_process_bytes=0))
    finally:
        fs.rm("/workers-test", recursive=True)
    assert got == expected and len(got) == 6 and not any(r["error"] for r in got)


def test_a_file_behind_a_url_is_a_job_of_its_own(corpus):
    """Its size is not known before it is read, so it is never batched: jobs in flight stay bounded."""
    from compressbench.data.discover import Found
    from compressbench.data.formats.base import Record, Unit

    suite = _suite(corpus, ["bytes"])
    template = TextJob(key="k", recipes=b"", options=RunOptions(), dataset=suite.datasets[0], records=[],
                       pending=[], by_unit=False)
    urls = [Record(u, Unit(Found(u, None, url=u), "files")) for u in ("https://h/a.txt", "https://h/b.txt")]
    local = [Record(p.name, Unit(Found(p.name, p), "files")) for p in sorted((corpus / "a").glob("*.txt"))[:3]]
    made = list(jobs(template, ((r, (0,)) for r in [*local[:2], *urls, local[2]]), batch_size=64))
    assert [[r.id for r in j.records] for j in made] == [[r.id for r in local[:2]], [urls[0].id], [urls[1].id],
                                                         [local[2].id]]
