"""`make bench`: record the machine, run every benchmark in its own process, and write RESULTS.md from the JSON files.

Usage:
  python benchmarks/run_all.py                    # everything, full settings (tens of minutes on a 2-core CPU)
  python benchmarks/run_all.py --quick            # tiny settings, into benchmarks/results/quick/ (numbers meaningless)
  python benchmarks/run_all.py --skip recognizer  # NAME: a benchmark or a group (see --help)
  python benchmarks/run_all.py --report-only      # only rebuild RESULTS.md (+ time_to_accuracy.png) from the JSON files

Results go to benchmarks/results/MACHINE/ (machine_name(): the CPU family and the widest vector unit training uses,
e.g. intel_xeon_amx, amd_epyc_avx512_bf16, amd_epyc_avx2): machine.json, RESULTS.md and one JSON file per benchmark.

Runs bench_pipeline.py (cpu and seed sizes), bench_step.py (cpu and half), bench_recognizer.py, bench_annotations.py
and damaged_jpegs.py. Not run here, each for the reason in SEPARATE: score_folders.py, loose_crops.py,
text_lines.py, language_prior.py and time_to_accuracy.py (they need trained run directories, which make bench does
not train),
screen_generator.py (it trains one model per generator setting), and the evaluation-set builders
eval_sets/third_party_words.py, scene_photo_words.py, photographed_page_words.py and real_crops_split.py (they need a
throwaway venv for trdg, images fetched once with apt-get or pip, or a folder of real crops; they build folders that
score_folders.py scores).
time_to_accuracy.json, when present in the machine's folder, gets a table and a figure in RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
QUICK_RESULTS = RESULTS / "quick"
# /proc/cpuinfo flags that decide a train step's speed, narrowest first, with the name a results folder gets.
VECTOR_UNITS = {"avx2": "avx2", "avx512f": "avx512", "avx512_bf16": "avx512_bf16", "amx_bf16": "amx"}

# name, group, script, full-size arguments, --quick arguments (each run well under a minute)
BENCHES = [
    ("pipeline-cpu", "pipeline", "bench_pipeline.py", ["--model-size", "cpu"], ["--quick"]),
    ("pipeline-seed", "pipeline", "bench_pipeline.py", ["--model-size", "seed"], ["--quick"]),
    ("step-cpu", "step", "bench_step.py", ["--model-size", "cpu", "--steps", "80"], ["--steps", "3"]),
    ("step-half", "step", "bench_step.py", ["--model-size", "half", "--steps", "30"], ["--steps", "3"]),
    ("step-half-deterministic", "step", "bench_step.py", ["--model-size", "half", "--steps", "30", "--op-determinism"],
     ["--steps", "3", "--op-determinism"]),
    ("recognizer", "recognizer", "bench_recognizer.py", [],
     ["--words", "16", "--slow-words", "2", "--batch1-words", "4", "--repeats", "1", "--budget-s", "1"]),
    ("annotations", "annotations", "bench_annotations.py", [], ["--lines", "200000", "--small", "50000"]),
    ("damaged-jpegs", "damaged-jpegs", "damaged_jpegs.py", [], ["--n", "30"]),
]
OUTPUT_OF = {"pipeline": "pipeline.json", "step": "step_kernels.json", "recognizer": "recognizer.json",
             "annotations": "annotations.json", "damaged-jpegs": "damaged_jpegs.json"}
# The scripts make bench does not start, and why (benchmarks/README.md gives their commands).
SEPARATE = {
    "score_folders.py": "needs a trained run_dir and the folders of eval_sets/",
    "loose_crops.py": "needs a trained run_dir (or the pretrained model) and a labelled folder of real crops",
    "text_lines.py": "needs a trained run_dir (or the pretrained model) and labelled folders of lines and of words",
    "language_prior.py": "needs a trained run_dir (its val and test splits) or folders; about 25 minutes with --sweep",
    "time_to_accuracy.py": "reads notebook 03 run directories trained for the purpose (tens of minutes each)",
    "screen_generator.py": "trains one model per generator setting (about 15 minutes each) and scores real crops",
    "eval_sets/third_party_words.py": "needs trdg 1.8 in a throwaway venv (Pillow < 10)",
    "eval_sets/scene_photo_words.py": "needs OpenCV's samples and a plate-reader sdist, fetched once with apt-get/pip",
    "eval_sets/photographed_page_words.py": "builds an evaluation folder; it measures nothing by itself",
    "eval_sets/real_crops_split.py": "splits a folder of real labelled crops, kept outside the repository, in two parts",
}


# ---- the machine --------------------------------------------------------------------------------------------

def cpu_info() -> dict:
    """CPU model, logical/physical cores and the cores this process may use, from /proc/cpuinfo where it exists."""
    info = {"cpu_model": platform.processor() or platform.machine(), "logical_cores": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    models = re.findall(r"^model name\s*:\s*(.+)$", text, re.M)
    if models:
        info["cpu_model"] = models[0].strip()
    flags = set(next(iter(re.findall(r"^flags\s*:\s*(.+)$", text, re.M)), "").split())
    info["vector_units"] = [f for f in VECTOR_UNITS if f in flags]
    cores = {(p, c) for p, c in re.findall(r"^physical id\s*:\s*(\d+)$.*?^core id\s*:\s*(\d+)$", text, re.M | re.S)}
    if cores:
        info["physical_cores"] = len(cores)
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    try:
        kb = int(re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M).group(1))
        info["memory_gb"] = round(kb / 2**20, 1)
    except (OSError, AttributeError):
        pass
    return info


def gpu_names() -> list[str]:
    """The GPUs nvidia-smi lists (none where it is not installed)."""
    if not shutil.which("nvidia-smi"):
        return []
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True)
    return [line.strip() for line in smi.stdout.splitlines() if line.strip()]


def machine_name(info: dict | None = None, gpus: list[str] | None = None) -> str:
    """The results folder of a machine: CPU vendor and family, and the widest vector unit training uses
    ('Intel(R) Xeon(R) Platinum 8481C' with AMX: intel_xeon_amx; 'AMD EPYC 7B13' with AVX2 only: amd_epyc_avx2),
    then the first GPU's name (..._nvidia_h100) when nvidia-smi lists one."""
    info = cpu_info() if info is None else info
    gpus = gpu_names() if gpus is None else gpus
    model = re.sub(r"\((r|tm)\)|@.*|\b(cpu|processor|\d+-core)\b", " ", str(info.get("cpu_model", "")).lower())
    words = [w for w in (re.sub(r"[^a-z0-9]+", "", w) for w in model.split()) if w]
    start = next((i for i, w in enumerate(words) if w in ("intel", "amd", "apple", "arm")), 0)
    parts = words[start:start + 2] or [platform.machine().lower() or "unknown"]
    units = info.get("vector_units") or []
    unit = next((name for flag, name in reversed(list(VECTOR_UNITS.items())) if flag in units), None)
    parts += [unit] if unit else []
    if gpus:
        gpu = [w for w in re.sub(r"[^a-z0-9]+", " ", gpus[0].lower()).split() if w != "nvidia"][:1]
        parts += ["nvidia", *gpu] if "nvidia" in gpus[0].lower() else gpu
    return "_".join(parts)


def machine_dir() -> Path:
    """Where this machine's results go: benchmarks/results/<machine_name()>/."""
    return RESULTS / machine_name()


_TF_PROBE = """
import json, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, tensorflow as tf
gpus = []
for d in tf.config.list_physical_devices("GPU"):
    try:
        name = tf.config.experimental.get_device_details(d).get("device_name", d.name)
    except Exception:
        name = d.name
    gpus.append(name)
print(json.dumps({"tensorflow": tf.__version__, "keras": keras.__version__, "gpus": gpus,
                  "built_with_cuda": tf.test.is_built_with_cuda()}))
"""


def machine_info() -> dict:
    """Everything that makes timings comparable: CPU, cores, memory, Python, TF/Keras versions, GPUs, load."""
    info = {**cpu_info(), "python": platform.python_version(), "platform": platform.platform()}
    run = subprocess.run([sys.executable, "-c", _TF_PROBE], capture_output=True, text=True, cwd=ROOT)
    try:
        info.update(json.loads(run.stdout.strip().splitlines()[-1]))
    except (IndexError, json.JSONDecodeError):
        info["tensorflow_error"] = run.stderr.strip().splitlines()[-1:] or ["no output"]
    if shutil.which("nvidia-smi"):
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True)
        info["nvidia_smi"] = [line.strip() for line in smi.stdout.splitlines() if line.strip()]
    info["machine_name"] = machine_name(info, [g.split(",")[0] for g in info.get("nvidia_smi", [])])
    info["load_average_start"] = round(os.getloadavg()[0], 2)
    return info


# ---- running ------------------------------------------------------------------------------------------------

def selected(skip: list[str]) -> list[tuple]:
    """The benchmarks left after --skip (a name or a group)."""
    names = {b[0] for b in BENCHES} | {b[1] for b in BENCHES}
    unknown = [s for s in skip if s not in names]
    if unknown:
        raise SystemExit(f"--skip: unknown {', '.join(unknown)}; expected one of {', '.join(sorted(names))}")
    return [b for b in BENCHES if b[0] not in skip and b[1] not in skip]


def run_benches(results_dir: Path, quick: bool, skip: list[str]) -> dict:
    """Run each benchmark as a subprocess (its output streams through), then write machine.json."""
    machine = {**machine_info(), "quick": quick, "started": now(), "benches": []}
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    for name, group, script, full, quick_args in selected(skip):
        cmd = [sys.executable, str(HERE / script), *full, *(quick_args if quick else []),
               "--out", str(results_dir / OUTPUT_OF[group])]
        print(f"\n=== {name}: {' '.join(Path(c).name if c.endswith('.py') else c for c in cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        seconds = round(time.perf_counter() - t0, 1)
        print(f"=== {name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {seconds} s", flush=True)
        machine["benches"].append({"name": name, "command": cmd[1:], "returncode": rc, "seconds": seconds,
                                   "finished": now()})
    # Keep the records of benchmarks skipped this time (their JSON files are still there and in the report).
    ran = {b["name"] for b in machine["benches"]}
    previous = (load(results_dir / "machine.json") or {}).get("benches") or []
    machine["benches"] = [b for b in previous if b.get("name") not in ran] + machine["benches"]
    machine["finished"] = now()
    machine["load_average_end"] = round(os.getloadavg()[0], 2)
    write_json(results_dir / "machine.json", machine)
    return machine


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def load(path: Path) -> dict | None:
    """A results JSON, or None when absent or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


# ---- the report ---------------------------------------------------------------------------------------------

def table(header: list[str], rows: list[list], align: str = "") -> list[str]:
    """Markdown table lines; align is one character per column ('l' or 'r', default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |",
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)]


def fmt_rate(r: dict | None) -> str:
    """'57.8 (57.2-58.8)': median images/s with the spread of the repeats."""
    if not r:
        return "-"
    return f"{r['images_per_s']:,.1f} ({r['min']:,.1f}–{r['max']:,.1f})"


def machine_section(m: dict | None) -> list[str]:
    if not m:
        return ["_machine.json not found: run `python benchmarks/run_all.py` (not --report-only) to record it._"]
    gpus = ", ".join(m.get("nvidia_smi") or m.get("gpus") or []) or "none"
    cores = f"{m.get('logical_cores')} logical"
    if m.get("physical_cores"):
        cores += f", {m['physical_cores']} physical"
    if m.get("usable_cores") and m["usable_cores"] != m.get("logical_cores"):
        cores += f", {m['usable_cores']} usable"
    units = ", ".join(m["vector_units"]) if m.get("vector_units") else "not recorded"
    rows = [["CPU", m.get("cpu_model", "?")], ["vector units", units], ["cores", cores],
            ["memory", f"{m.get('memory_gb', '?')} GB"],
            ["GPUs", gpus], ["TensorFlow / Keras", f"{m.get('tensorflow', '?')} / {m.get('keras', '?')}"],
            ["Python / OS", f"{m.get('python', '?')} / {m.get('platform', '?')}"],
            ["run", f"{m.get('started', '?')} → {m.get('finished', '?')}" + (" (**--quick**)" if m.get("quick") else "")],
            ["load average (1 min) start → end", f"{m.get('load_average_start', '?')} → {m.get('load_average_end', '?')}"]]
    lines = table(["", ""], rows, "ll")
    benches = m.get("benches") or []
    if benches:
        lines += ["", *table(["benchmark", "exit", "seconds"],
                             [[b["name"], "ok" if b["returncode"] == 0 else f"**{b['returncode']}**", b["seconds"]]
                              for b in benches])]
    return lines


PIPELINE_ROWS = [
    ("a · train step on one in-memory batch", "a_in_memory"),
    ("b · fit on the shard pipeline (shuffle, augment)", "b_shards"),
    ("c · fit on a JPEG-file pipeline (shuffle, augment)", "c_jpeg"),
    ("d · the seed's way: NumPy arrays, 4-input model", "d_seed_numpy"),
    ("e · shard pipeline alone", "e_pipeline_shards"),
    ("e · JPEG pipeline alone", "e_pipeline_jpeg"),
]


def pipeline_section(p: dict | None) -> list[str]:
    if not p or not p.get("sizes"):
        return ["_not measured: `python benchmarks/bench_pipeline.py`_"]
    sizes = list(p["sizes"].values())
    head = ["images/s, median (min–max)"] + [f"{s['model_size']} ({s['params'] / 1e6:.1f} M params)" for s in sizes]
    rows = [[label] + [fmt_rate(s["rates"].get(key)) for s in sizes] for label, key in PIPELINE_ROWS]
    pct = lambda v: f"{v:.0%}"
    target = lambda v, ok: f"{v:,.1f}× " + ("✓" if ok else "✗ below target")
    rows += [
        ["pipeline overhead, shards: 1 − b/a (target ≤ 5 %)"] + [pct(s["pipeline_overhead_shards"]) for s in sizes],
        ["… median of each round's own 1 − b/a"]
        + [pct(s["pipeline_overhead_shards_per_round"]) if "pipeline_overhead_shards_per_round" in s else "" for s in sizes],
        ["pipeline overhead, JPEG: 1 − c/a"] + [pct(s["pipeline_overhead_jpeg"]) for s in sizes],
        ["seed's NumPy fit: d/a"] + [f"{s['seed_numpy_vs_in_memory']:.2f}" for s in sizes],
        [f"shard pipeline ÷ step: e/a (target ≥ {sizes[0].get('target_pipeline_vs_step', 5):g}×)"]
        + [target(s["shards_pipeline_vs_step"], s["shards_meets_target"]) for s in sizes],
        ["JPEG pipeline ÷ step: e/a"] + [target(s["jpeg_pipeline_vs_step"], s["jpeg_meets_target"]) for s in sizes],
    ]
    settings = "; ".join(
        f"{s['model_size']}: recipe {s['recipe']}, batch {s['batch_size']}, {s['repeats']} interleaved rounds of "
        f"{s['steps_per_repeat']} steps after a warm-up epoch, {s['n_words']} words, load {s['load_average_start']:.1f} → "
        f"{s['load_average_end']:.1f}, {s['measured_at']}" + (" (**quick**)" if s.get("quick") else "")
        for s in sizes)
    return [*table(head, rows), "", f"Settings — {settings}.", "",
            "a is what a train step consumes at most; b − a is the time the step waits for data (the pipeline shares "
            "the CPU cores with the step). e runs the same pipelines with no model, in the same process. A negative "
            "overhead is noise."]


def recognizer_section(r: dict | None) -> list[str]:
    if not r or not r.get("rows"):
        return ["_not measured: `python benchmarks/bench_recognizer.py`_"]
    batches = sorted({row["batch_size"] for row in r["rows"]})
    groups: dict[tuple, dict] = {}
    for row in r["rows"]:
        groups.setdefault((row["engine"], row["decoder"]), {})[row["batch_size"]] = row

    def cell(row):
        if row is None:
            return ""
        ratio = row.get("vs_tesseract_per_image")
        return f"{row['words_per_s']:,.1f}" + ("" if ratio is None else f" ({ratio:.2f}×)")

    rows = [[engine, decoder, *(cell(by_batch.get(b)) for b in batches)] for (engine, decoder), by_batch in groups.items()]
    calls = ", ".join(f"{k} {v:.1f}" for k, v in (r.get("batch1_model_call_ms") or {}).items())
    tess = r.get("tesseract") or "not installed: no ratio"
    return [*table(["engine", "decoder / mode", *(f"batch {b}" for b in batches)], rows, "ll" + "r" * len(batches)), "",
            f"Words/s (× `tesseract --psm 8` called once per image; {tess}). Model: {r.get('model')} "
            f"({r.get('params', 0):,} params), {r.get('cpus')} CPUs, load {r.get('load_average_start', 0):.1f} → "
            f"{r.get('load_average_end', 0):.1f}. Every engine reads the same PNG files. Batch-1 model call (ms): {calls}."
            + (f" Measured {r['measured_at']}." if r.get("measured_at") else "")]


STEP_ROWS = [
    ("keras_ops", "Keras's batch norm, `keras.ops.ctc_loss`"),
    ("ctc_kernel", "TensorFlow's CTC kernel (`ctc.ctc_loss`)"),
    ("fused_bn", "+ fused batch norm: notebook 03's float32 step"),
    ("bf16_convs", "+ bfloat16 convolutions: notebook 03's step where the CPU has AMX or AVX512-BF16"),
]


def step_section(s: dict | None) -> list[str]:
    if not s:
        return ["_not measured: `python benchmarks/bench_step.py`_"]
    sizes = list(s.items())
    head = ["images/s, median (interquartile), × the first row"] + [
        f"{size} (batch {e['batch_size']}, {e['steps']} steps)" for size, e in sizes]

    def cell(v):
        if not v:
            return "-"
        return (f"{v['images_per_s_median']:,.1f} ({v['images_per_s_p25']:,.0f}–{v['images_per_s_p75']:,.0f}), "
                f"{v['speedup_vs_keras_ops']:.2f}×")

    rows = [[label] + [cell(e["variants"].get(key)) for _, e in sizes] for key, label in STEP_ROWS]
    when = "; ".join(f"{size}: {e.get('date', '?')}" for size, e in sizes)
    return [*table(head, rows), "",
            "The four variants get the same weights and one in-memory batch, and their steps are interleaved one by one. "
            f"Where the CPU has neither AMX nor AVX512-BF16, the last row shows how much slower bfloat16 is there. {when}."]


def damaged_section(d: dict | None) -> list[str]:
    if not d:
        return ["_not measured: `python benchmarks/damaged_jpegs.py`_"]
    keys = [k for k, v in d.items() if type(v) is int and k not in ("copies", "seed")]
    return [*table(["copies", *keys], [[d.get("copies", "?"), *(d[k] for k in keys)]], "r" * (1 + len(keys))), "",
            "How `load_image(strict=True)` (as `prepare_split` loads) treats copies of one rendered JPEG with bytes "
            "changed or cut out at random. decoded_but_off: decoded more than 10 grey levels off the original on "
            f"average, without a word from the codec. OpenCV {d.get('opencv', '?')}, {d.get('measured_at', '?')}."]


def annotations_section(a: dict | None) -> list[str]:
    if not a or not a.get("runs"):
        return ["_not measured: `python benchmarks/bench_annotations.py`_"]
    rows = [[f"{r['lines']:,}", r.get("file_mb", "?"), r["seconds"], f"{r['lines_per_s']:,}", r["tracemalloc_peak_mb"],
             r["maxrss_delta_mb"]] for r in a["runs"]]
    return [*table(["lines", "file MB", "seconds", "lines/s", "peak MB (tracemalloc)", "peak RSS growth MB"], rows,
                   "rrrrrr"), "",
            "read_mjsynth streams when the peak memory stays flat as the file grows (MJSynth has ~9M lines)."
            + (f" Measured {a['measured_at']}." if a.get("measured_at") else "")]


def tta_section(t: dict | None, figure: Path | None) -> list[str]:
    runs, plans = (t or {}).get("runs") or [], (t or {}).get("planned") or []
    if not runs and not plans:
        return []
    pct = lambda v: "-" if v is None else f"{v:.1%}"
    cer = lambda r: "-" if r.get("cer") is None else f"{r['cer']:.3f}"
    lines = ["## Time to accuracy", ""]
    if plans:
        rows = [[r["recipe"], r.get("budget_minutes", "?"), r.get("trained_minutes", "?"), pct(r.get("word_acc")),
                 pct(r.get("word_acc_ci")), cer(r), f"{r.get('images_seen', 0):,}"] for r in plans]
        lines += ["Runs planned for their own budget (the learning rate anneals by its end); what the best checkpoint reads:", "",
                  *table(["recipe", "budget (min)", "trained (min)", "word acc", "word acc (any case)", "CER",
                          "images seen"], rows, "lrrrrrr"), ""]
    if runs:
        rows = [[r.get("recipe", "?"), r.get("run_dir", "?"), r.get("budget_minutes", "?"), pct(r.get("word_acc")),
                 pct(r.get("word_acc_ci")), cer(r), f"{r.get('blank_share', 0):.2f}"]
                for r in sorted(runs, key=lambda r: (str(r.get("recipe")), r.get("budget_minutes") or 0))]
        lines += ["Every epoch of one long run per recipe:", "",
                  *table(["recipe", "run", "minutes", "word acc", "word acc (any case)", "CER", "blank share"], rows,
                         "llrrrrr")]
    if figure is not None:
        lines += ["", f"![word accuracy vs training minutes]({figure.name})"]
    return lines


def tta_figure(t: dict, path: Path) -> Path | None:
    """Any-case word accuracy vs training minutes: each recipe's per-epoch curve, and the planned budgets as dots."""
    runs = [r for r in t.get("runs") or [] if r.get("budget_minutes") is not None and r.get("word_acc_ci") is not None]
    plans = [r for r in t.get("planned") or [] if r.get("budget_minutes") is not None]
    if not runs and not plans:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    colours = {}
    for name in sorted({str(r.get("recipe")) for r in runs + plans}):
        colours[name] = f"C{len(colours)}"
        pts = sorted((r["budget_minutes"], r["word_acc_ci"]) for r in runs if str(r.get("recipe")) == name)
        if pts:
            ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], color=colours[name], alpha=0.6, marker=".",
                    label=f"{name}: each epoch of one run")
        pl = sorted((r["trained_minutes"], r["word_acc_ci"]) for r in plans if str(r.get("recipe")) == name)
        if pl:
            ax.plot([p[0] for p in pl], [100 * p[1] for p in pl], color=colours[name], ls="none", marker="o",
                    ms=9, mfc="white", mew=2, label=f"{name}: a run planned for that budget")
            for x, y in pl:
                ax.annotate(f"{100 * y:.0f}", (x, 100 * y), textcoords="offset points", xytext=(0, 8), ha="center")
    ax.axhline(85, color="grey", ls=":", lw=1, label="the target, 85 %")
    ax.set_xlabel("minutes of training")
    ax.set_ylabel("validation word accuracy, any case (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.35), fontsize=8)
    ax.set_title("Time to accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_report(results_dir: Path) -> Path:
    """RESULTS.md (and time_to_accuracy.png when its JSON exists) from the JSON files in results_dir."""
    machine = load(results_dir / "machine.json")
    parts = {name: results_dir / f for name, f in OUTPUT_OF.items()}
    quick = bool(machine and machine.get("quick"))
    lines = ["# Benchmark results", "",
             f"Generated by `benchmarks/run_all.py` on {now()} from the JSON files beside this one. "
             "Timings depend on the machine and on whatever else runs on it (see the load averages); they are "
             "never asserted in tests."]
    if quick:
        lines += ["", "> **--quick run**: tiny settings for a smoke test; the numbers mean nothing."]
    lines += ["", "## Machine", "", *machine_section(machine)]
    for title, key, section in (("Training throughput (`bench_pipeline.py`)", "pipeline", pipeline_section),
                                ("One train step, four ways (`bench_step.py`)", "step", step_section),
                                ("Recognizer speed (`bench_recognizer.py`)", "recognizer", recognizer_section),
                                ("Annotation file memory (`bench_annotations.py`)", "annotations", annotations_section),
                                ("Damaged JPEGs (`damaged_jpegs.py`)", "damaged-jpegs", damaged_section)):
        lines += ["", f"## {title}", "", *section(load(parts[key]))]
    # time_to_accuracy.json comes from the training experiments; a quick results folder falls back to the machine's.
    tta_path = next((p for p in (results_dir / "time_to_accuracy.json", machine_dir() / "time_to_accuracy.json")
                     if p.is_file()), None)
    if tta_path is not None:
        tta = load(tta_path) or {}
        figure = tta_figure(tta, results_dir / "time_to_accuracy.png")
        section = tta_section(tta, figure)
        if section:
            lines += ["", *section]
    out = results_dir / "RESULTS.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Not run here:\n" + "\n".join(f"  {script}: {why}" for script, why in SEPARATE.items()))
    ap.add_argument("--quick", action="store_true", help="tiny settings (each benchmark well under a minute)")
    ap.add_argument("--skip", action="append", default=[], metavar="NAME",
                    help="skip a benchmark or group (repeatable, or comma-separated): "
                         + ", ".join(sorted({b[0] for b in BENCHES} | {b[1] for b in BENCHES})))
    ap.add_argument("--report-only", action="store_true", help="only rebuild RESULTS.md from the JSON files")
    ap.add_argument("--results-dir", type=Path,
                    help=f"default {RESULTS.relative_to(ROOT)}/MACHINE (here: {machine_name()}), "
                         f"or {QUICK_RESULTS.relative_to(ROOT)} with --quick")
    args = ap.parse_args(argv)
    results_dir = args.results_dir or (QUICK_RESULTS if args.quick else machine_dir())
    results_dir.mkdir(parents=True, exist_ok=True)
    if results_dir.resolve() == QUICK_RESULTS.resolve():
        (results_dir / ".gitignore").write_text("*\n")  # smoke-run numbers are never committed
    failed = []
    if not args.report_only:
        skip = [s.strip() for item in args.skip for s in item.split(",") if s.strip()]
        machine = run_benches(results_dir, args.quick, skip)
        failed = [b["name"] for b in machine["benches"] if b["returncode"] != 0]
    out = write_report(results_dir)
    print(f"\nwrote {out}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
