"""Text over all cores: compressbench's batch path beside the library's best multi-threaded batch call.

For each text family the same texts go through the bare library's fastest parallel batch call over
every core (tiktoken ``encode_ordinary_batch(num_threads=cores)``, tokenizers ``encode_batch_fast``
where the installed version has it, else ``encode_batch``, SentencePiece ``encode(...,
num_threads=cores)`` with numpy ids where the version has them) and through ``measure_batches`` in
batches of the runner's default size, as many at once as the runner measures (the path ``compressbench
run`` and ``measure`` take, counting characters, words, unknown and byte tokens too), once with the information ledger (token-id
counts and continued words, the default) and once without (``--no-ledger``), and, written as one
file per text, through the whole run ``compressbench measure DIR`` makes (``run_suite``: listing,
reading, hashing, rows, the ledger). They alternate for a few rounds and the best time of each is
kept. ``extra_info``: ``throughput_ratio`` is ``measure_batches``' throughput over the bare call's
with the ledger, ``no_ledger_throughput_ratio`` without it (goal: at least 0.9), ``cpu_ratio`` and
``no_ledger_cpu_ratio`` the same with CPU time (all threads) in place of wall time, steadier on a
shared machine, and ``end_to_end_ratio`` and ``end_to_end_no_ledger_ratio`` the whole run's
throughput over the bare call's on texts already in memory. ``workers_ratio`` and
``workers_no_ledger_ratio`` are the same for a whole run with every text tokenized in the worker
processes (``text_in_process_bytes=0``; by default a dataset's first 32 MiB stay in the main process,
and all of it with fewer than 3 workers), start-up included; ``workers_no_ledger_vs_bare_read`` sets
that run beside the bare call that first reads the files too. ``workers_main_cpu_s`` and
``workers_cpu_s`` split that run's CPU between the main process and the workers, and
``main_process_keeps_up_with_bare_cores`` is the bare call's CPU time over the main process's: how many
cores' worth of the bare library's throughput the one coordinating process could keep up with, the
bound of that path on a machine with more cores than this one. Token counts must be identical.

The corpus is the text fixtures cut into pieces of about 8 KB, cycled to
``COMPRESSBENCH_BENCH_TEXTS`` texts (default 600), in ``COMPRESSBENCH_BENCH_ROUNDS`` rounds (default 3).
"""

from __future__ import annotations

import os
import resource
import time

import pytest

from benchmarks.conftest import ROOT
from compressbench import get_tokenizer
from compressbench.adapters._text import cores
from compressbench.core.sample import Sample
from compressbench.data.modalities import batches_in_flight, default_batch_size
from compressbench.data.suite import parse_suite
from compressbench.measure import batched, measure_batches
from compressbench.runner import RunOptions, run_suite

TEXTS = int(os.environ.get("COMPRESSBENCH_BENCH_TEXTS", "600"))
ROUNDS = int(os.environ.get("COMPRESSBENCH_BENCH_ROUNDS", "3"))  # more: steadier best times on a busy machine
HF = ROOT / "fixtures" / "tokenizers" / "udhr-bpe.json"
SP = ROOT / "fixtures" / "tokenizers" / "udhr-unigram.model"


def _corpus(n: int, size: int = 8000) -> list[str]:
    pieces = []
    for path in sorted((ROOT / "fixtures" / "text").rglob("*.*")):
        text = path.read_text(encoding="utf-8")
        pieces += [text[i:i + size] for i in range(0, len(text), size)]
    return [pieces[i % len(pieces)] for i in range(n)]


def _bare(spec: str, tok):
    threads = cores()
    if spec.startswith("tiktoken"):
        return lambda texts: [len(ids) for ids in tok.encoding.encode_ordinary_batch(texts, num_threads=threads)]
    if spec.startswith("hf"):
        encode = getattr(tok.backend, "encode_batch_fast", tok.backend.encode_batch)
        return lambda texts: [len(e.ids) for e in encode(texts, add_special_tokens=False)]
    out = "numpy" if hasattr(tok.backend, "encode_as_numpy") else int
    return lambda texts: [len(ids) for ids in tok.backend.encode(texts, out_type=out, num_threads=threads)]


@pytest.mark.parametrize("spec", ["tiktoken:cl100k_base", "tiktoken:o200k_base", f"hf:{HF}", f"sp:{SP}"],
                         ids=["cl100k_base", "o200k_base", "hf-bpe", "sp-unigram"])
def test_compressbench_keeps_up_with_the_bare_batch_call(benchmark, spec, tmp_path):
    tok = get_tokenizer(spec)
    texts = _corpus(TEXTS)
    samples = [Sample(dataset="b", modality="text", id=str(i), path=None, payload=t, raw_bytes=len(t.encode()))
               for i, t in enumerate(texts)]
    folder = tmp_path / "texts"
    folder.mkdir()
    files = [folder / f"{i:05d}.txt" for i in range(len(texts))]
    for path, text in zip(files, texts):
        path.write_text(text, encoding="utf-8")
    suite = parse_suite({"tokenizers": [spec], "datasets": [{"name": "b", "modality": "text", "paths": [str(folder)]}]},
                        source="bench", base=folder)
    bare = _bare(spec, tok)
    size = default_batch_size("text")
    best = dict.fromkeys(["bare", "bare_read", "compressbench", "no_ledger", "end_to_end", "end_to_end_no_ledger",
                          "workers", "workers_no_ledger"], float("inf"))
    cpu = dict(best)
    counts: dict[str, list[int]] = {}
    split: list[tuple[float, float]] = []  # CPU seconds of this process and of the workers, workers_no_ledger

    def ours() -> list[int]:
        batches = batched(iter(samples), size)
        return [m.tokens for rows in measure_batches([tok], batches, ahead=batches_in_flight("text")) for m in rows]

    def lean() -> list[int]:
        tok.measure_ledger = False
        try:
            return ours()
        finally:
            tok.measure_ledger = True

    def whole_run(ledger: bool = True, workers: bool = False) -> list[int]:
        rows: list[dict] = []
        # as `compressbench measure` runs (--workers defaults to the machine's cores: on 2 cores all text
        # stays in this process), or (workers) with all of it tokenized in the workers
        options = RunOptions(ledger=ledger, workers=os.cpu_count() or 1,
                             **({"text_in_process_bytes": 0} if workers else {}))
        main, children = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        run_suite(suite, tokenizers=[tok], emit=rows.append, options=options)
        if workers and not ledger:  # where the work ran: this process, or the workers (ended with the run)
            ended = resource.getrusage(resource.RUSAGE_CHILDREN)
            split.append((time.process_time() - main,
                          ended.ru_utime + ended.ru_stime - children.ru_utime - children.ru_stime))
        return [r["tokens"] for r in sorted(rows, key=lambda r: r["sample"])]

    def bare_read() -> list[int]:
        return bare([path.read_text(encoding="utf-8") for path in files])

    def rounds() -> None:
        for _ in range(ROUNDS):
            for name, fn in (("bare", lambda: bare(texts)), ("bare_read", bare_read), ("compressbench", ours),
                             ("no_ledger", lean), ("end_to_end", whole_run),
                             ("end_to_end_no_ledger", lambda: whole_run(False)),
                             ("workers", lambda: whole_run(workers=True)),
                             ("workers_no_ledger", lambda: whole_run(False, workers=True))):
                start, start_cpu = time.perf_counter(), time.process_time()
                counts[name] = fn()
                best[name] = min(best[name], time.perf_counter() - start)
                cpu[name] = min(cpu[name], time.process_time() - start_cpu)

    benchmark.group = "text over all cores"
    benchmark.pedantic(rounds, rounds=1, iterations=1)
    assert len({tuple(c) for c in counts.values()}) == 1  # every path counts the same tokens
    mb = sum(len(t.encode()) for t in texts) / 1e6
    benchmark.extra_info.update({"texts": TEXTS, "mb": round(mb, 2), "cores": cores(),
                                 "bare_mb_per_s": round(mb / best["bare"], 2),
                                 "compressbench_mb_per_s": round(mb / best["compressbench"], 2),
                                 "throughput_ratio": round(best["bare"] / best["compressbench"], 3),
                                 "cpu_ratio": round(cpu["bare"] / cpu["compressbench"], 3),
                                 "no_ledger_throughput_ratio": round(best["bare"] / best["no_ledger"], 3),
                                 "no_ledger_cpu_ratio": round(cpu["bare"] / cpu["no_ledger"], 3),
                                 "end_to_end_ratio": round(best["bare"] / best["end_to_end"], 3),
                                 "end_to_end_no_ledger_ratio": round(best["bare"] / best["end_to_end_no_ledger"], 3),
                                 "workers_ratio": round(best["bare"] / best["workers"], 3),
                                 "workers_no_ledger_ratio": round(best["bare"] / best["workers_no_ledger"], 3),
                                 "workers_no_ledger_vs_bare_read": round(best["bare_read"] / best["workers_no_ledger"],
                                                                         3)})
    main_cpu, worker_cpu = min(split, key=sum)
    # the coordinating process's CPU bounds the workers' path on any number of cores: with the bare
    # call's CPU time over it, how many cores' worth of the bare library's throughput it keeps up with
    benchmark.extra_info.update({"workers_main_cpu_s": round(main_cpu, 3), "workers_cpu_s": round(worker_cpu, 3),
                                 "bare_cpu_s": round(cpu["bare"], 3),
                                 "main_process_keeps_up_with_bare_cores": round(cpu["bare"] / main_cpu, 1)})
    print(f"\n{spec}: {benchmark.extra_info}")
