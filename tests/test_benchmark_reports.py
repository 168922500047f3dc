"""The benchmark scripts' own logic: the report, the machine's results folder, the step and damaged-JPEG benchmarks,
the evaluation-set builders, and that `make bench` runs (or names) every script."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "eval_sets"))
import run_all  # noqa: E402


def _fake_run(run_dir: Path, recipe: str, budget: float, accs: list[float]) -> Path:
    """A run directory as notebook 03 leaves it: history.csv (one row per epoch) and train_summary.json."""
    run_dir.mkdir(parents=True)
    with open(run_dir / "history.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["epoch", "minutes", "val_word_acc", "val_word_acc_ci", "val_cer", "blank_share"])
        w.writeheader()
        for i, a in enumerate(accs):
            w.writerow({"epoch": i, "minutes": budget * (i + 1) / len(accs), "val_word_acc": a - 0.01,
                        "val_word_acc_ci": a, "val_cer": 1 - a, "blank_share": 0.8})
    (run_dir / "train_summary.json").write_text(json.dumps(
        {"recipe": recipe, "time_budget_minutes": budget, "batch_size": 32, "images_seen": 1000 * len(accs),
         "val_images_decoded": 2000, "minutes_trained": budget, "val_word_accuracy": max(accs) - 0.01, "val_word_accuracy_ci": max(accs),
         "val_cer": 1 - max(accs)}))
    return run_dir


def test_time_to_accuracy_json_and_report(tmp_path):
    curve = _fake_run(tmp_path / "seed15", "seed", 15.0, [0.0, 0.0, 0.01])
    p2 = _fake_run(tmp_path / "ttb2", "fast", 2.0, [0.1, 0.3])
    p10 = _fake_run(tmp_path / "ttb10", "fast", 10.0, [0.2, 0.65, 0.6])   # best checkpoint before the last epoch
    results = tmp_path / "results"
    results.mkdir()
    out = results / "time_to_accuracy.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "time_to_accuracy.py"), str(curve),
                    "--planned", str(p10), str(p2), "--out", str(out)], check=True, capture_output=True)
    data = json.loads(out.read_text())
    assert [r["budget_minutes"] for r in data["runs"]] == [5.0, 10.0, 15.0]
    assert [(r["budget_minutes"], r["word_acc_ci"], r["images_seen"]) for r in data["planned"]] == [
        (2.0, 0.3, 2000), (10.0, 0.65, 3000)]
    report = run_all.write_report(results).read_text()
    assert "| fast | 10.0 | 10.0 | 64.0% | 65.0% | 0.350 | 3,000 |" in report.replace(" %", "%")
    assert "| seed | seed15 | 15.0 |" in report
    assert (results / "time_to_accuracy.png").stat().st_size > 1000


def test_bench_step_measures_the_four_variants_it_names(tmp_path):
    import bench_step

    models = bench_step.build_variants("tiny")
    assert list(models) == ["keras_ops", "ctc_kernel", "fused_bn", "bf16_convs"]
    swapped = lambda m, fn: any(layer.call.__qualname__.startswith(fn) for layer in m.layers)
    assert [swapped(m, "_fused_call") for m in models.values()] == [False, False, True, True]
    assert [swapped(m, "_bf16_conv_call") for m in models.values()] == [False, False, False, True]
    assert [m.loss.kernel for m in models.values()] == [False, True, True, True]
    out = tmp_path / "step.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_step.py"), "--model-size", "tiny",
                    "--batch-size", "4", "--steps", "2", "--out", str(out)], check=True, capture_output=True)
    entry = json.loads(out.read_text())["tiny"]
    assert entry["batch_size"] == 4 and set(entry["variants"]) == set(models)
    assert all(v["images_per_s_median"] > 0 for v in entry["variants"].values())
    assert entry["variants"]["keras_ops"]["speedup_vs_keras_ops"] == 1.0


def test_the_step_and_damaged_jpeg_sections_of_the_report(tmp_path):
    step = {"cpu": {"batch_size": 32, "steps": 80, "date": "2026-01-01T00:00:00+00:00", "variants": {
        name: {"images_per_s_median": 100.0 * k, "images_per_s_p25": 90.0 * k, "images_per_s_p75": 110.0 * k,
               "speedup_vs_keras_ops": float(k)}
        for k, name in enumerate(("keras_ops", "ctc_kernel", "fused_bn", "bf16_convs"), start=1)}}}
    (tmp_path / "step_kernels.json").write_text(json.dumps(step))
    (tmp_path / "damaged_jpegs.json").write_text(json.dumps(
        {"copies": 300, "seed": 0, "decoded": 176, "damaged_image": 112, "unreadable_image": 12, "decoded_but_off": 75,
         "copies_that_printed_to_stderr": 0, "opencv": "4.10.0"}))
    report = run_all.write_report(tmp_path).read_text()
    assert "| + fused batch norm: notebook 03's float32 step | 300.0 (270–330), 3.00× |" in report
    assert "| 300 | 176 | 112 | 12 | 75 | 0 |" in report
    assert "_not measured: `python benchmarks/bench_recognizer.py`_" in report


def test_machine_names_give_the_cpu_family_and_its_widest_vector_unit():
    name = run_all.machine_name
    assert name({"cpu_model": "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
                 "vector_units": ["avx2", "avx512f", "avx512_bf16", "amx_bf16"]}, []) == "intel_xeon_amx"
    assert name({"cpu_model": "AMD EPYC 7B13 64-Core Processor", "vector_units": ["avx2"]}, []) == "amd_epyc_avx2"
    assert name({"cpu_model": "AMD Ryzen 7 7840U w/ Radeon 780M Graphics",
                 "vector_units": ["avx2", "avx512f", "avx512_bf16"]}, []) == "amd_ryzen_avx512_bf16"
    assert name({"cpu_model": "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz",
                 "vector_units": ["avx2", "avx512f"]}, ["NVIDIA H100 80GB HBM3"]) == "intel_core_avx512_nvidia_h100"
    assert run_all.machine_dir().parent == run_all.RESULTS


def test_make_bench_runs_or_names_every_benchmark_script():
    bench = ROOT / "benchmarks"
    scripts = {p.relative_to(bench).as_posix() for p in bench.rglob("*.py")} - {"run_all.py"}
    run = {b[2] for b in run_all.BENCHES}
    assert scripts == run | set(run_all.SEPARATE) and not run & set(run_all.SEPARATE)
    assert {b[1] for b in run_all.BENCHES} == set(run_all.OUTPUT_OF)
    readme = (bench / "README.md").read_text()
    assert [s for s in sorted(scripts | {"run_all.py"}) if f"`{s}" not in readme] == []
    doc = run_all.__doc__
    assert [s for s in sorted(scripts) if Path(s).name not in doc] == []


def test_damaged_jpegs_counts_every_copy(tmp_path):
    out = tmp_path / "damaged.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "damaged_jpegs.py"), "--n", "6", "--out", str(out)],
                   check=True, capture_output=True)
    data = json.loads(out.read_text())
    outcomes = {k: v for k, v in data.items() if type(v) is int and k not in
                ("copies", "seed", "decoded_but_off", "copies_that_printed_to_stderr")}
    assert data["copies"] == 6 and sum(outcomes.values()) == 6
    assert data["decoded_but_off"] <= outcomes.get("decoded", 0)


def test_photographed_page_words_are_cropped_and_labelled(tmp_path):
    import photographed_page_words as page

    from crnn_utils.datasets import read_folder
    from crnn_utils.images import load_image

    records = read_folder(page.write(tmp_path / "page"))
    assert [r.label for r in records] == [w for _, w in page.WORDS] and len(records) == 44
    # Every box lies inside the photo and holds dark ink on the lighter page.
    for r, ((x, y, w, h), _) in zip(records, page.WORDS):
        img = load_image(r.path)
        assert img.shape == (h + 2 * page.MARGIN, w + 2 * page.MARGIN)
        assert img.min() < 0.7 * np.median(img)


def test_scene_photo_words_are_found_by_name_cropped_and_labelled(tmp_path):
    import cv2
    import scene_photo_words as scene

    from crnn_utils.datasets import read_folder

    # Stand-ins nested as the packages nest them, each as large as its furthest box (whole crops 40x120),
    # with a box's position written into it so the test can tell a crop from the wrong place.
    sizes = {"scenetext01.jpg": (600, 800), "scenetext02.jpg": (960, 1280), "scenetext03.jpg": (958, 1004),
             "scenetext04.jpg": (868, 1280), "scenetext05.jpg": (960, 1280), "scenetext06.jpg": (480, 640)}
    for name in scene.WORDS:
        folder = tmp_path / ("plates/fast_plate_ocr-1.1.0/test/assets" if name.startswith("test_plate")
                             else "deb/usr/share/doc/opencv-doc/examples/text")
        folder.mkdir(parents=True, exist_ok=True)
        h, w = sizes.get(name, (480, 640) if "segmented" in name else (40, 120))
        img = np.zeros((h, w, 3), np.uint8)
        img[:, :, 0] = (np.arange(w) % 256)[None, :]  # x in blue, y in green (mod 256): where a crop came from
        img[:, :, 1] = (np.arange(h) % 256)[:, None]
        (folder / name).write_bytes(cv2.imencode(".png", img)[1].tobytes())  # lossless, whatever the name says
    with pytest.raises(FileNotFoundError, match="test_plate_1.png, test_plate_2.png.*fast-plate-ocr"):
        scene.write([tmp_path / "deb"], tmp_path / "no")
    records = read_folder(scene.write([tmp_path / "deb", tmp_path / "plates"], tmp_path / "out"))
    wanted = [(box, word) for words in scene.WORDS.values() for box, word in words]
    assert [r.label for r in records] == [word for _, word in wanted] and len(records) == 50
    for r, (box, _) in zip(records, wanted):
        crop = cv2.imread(str(r.path))
        if box is None:
            assert crop.shape[:2] == (40, 120)
        else:
            x0, y0, x1, y1 = box
            assert crop.shape[:2] == (y1 - y0, x1 - x0)
            assert (crop[0, 0, 0], crop[0, 0, 1]) == (x0 % 256, y0 % 256)
    # A photo smaller than its boxes is another photo: an error, not a silently short crop.
    cv2.imwrite(str(tmp_path / "deb/usr/share/doc/opencv-doc/examples/text/scenetext02.jpg"), np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(ValueError, match="scenetext02.jpg' is 100x100, smaller than the box of 'Sports'"):
        scene.write([tmp_path / "deb", tmp_path / "plates"], tmp_path / "out2")
