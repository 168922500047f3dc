"""What the English language prior adds to beam search, on a run's own splits and on labelled folders; and how much
of it comes from the prior knowing the generator's words.

    .venv/bin/python benchmarks/language_prior.py RUN_DIR [FOLDER ...] [--sweep [--sweep-on SET]] [--out PATH]

Decodes with greedy, beam, beam_lm (the default prior: a 6-gram of wordfreq's 100k most frequent English words) and
beam_lm with a control prior built from 100k wordfreq words *not* in the run's rendered words (run_dir/data/synth/
lexicon.txt): the gap between the two on the test split is what the prior gains by having seen the test words.
--sweep first scores weight x bonus x mix on the validation split (how the defaults of `language.LanguagePrior`
were chosen), or with --sweep-on on a folder's name (real crops: letters and digits are scored too). RUN_DIR
`pretrained` reads with the shipped model, on the folders only. Unreadable folder images count as wrong, as in
score_folders.py.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("folders", type=Path, nargs="*")
    ap.add_argument("--sweep", action="store_true", help="score weight x bonus x mix on the validation split first")
    ap.add_argument("--sweep-on", default="val", help="the set to sweep on: val, or a folder's name")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "language_prior.json")
    args = ap.parse_args(argv)
    names = [f.name for f in args.folders] + ([] if str(args.run_dir) == "pretrained" else ["val", "test"])
    if args.sweep and args.sweep_on not in names:
        ap.error(f"--sweep-on {args.sweep_on!r} is none of the sets read: {', '.join(names) or 'none'}")

    import numpy as np
    import wordfreq

    import crnn_utils  # noqa: F401  (quiets TensorFlow first)
    from crnn_utils import ctc, datasets, language, metrics, synth, training
    from crnn_utils.recognizer import Recognizer

    pretrained = str(args.run_dir) == "pretrained"
    rec = Recognizer.pretrained() if pretrained else Recognizer.from_run_dir(args.run_dir)
    cs, data = rec.charset, args.run_dir / "data"
    lexicon_file = data / "synth" / "lexicon.txt"
    generator_words = {w.lower() for w in (lexicon_file.read_text().split() if lexicon_file.is_file() else synth.lexicon())}
    # 1. The control prior: as many wordfreq words as the default's, none of them the generator's.
    t = time.perf_counter()
    default_lm = language.english()
    others = (w for w in wordfreq.top_n_list("en", 1_000_000)
              if w.isascii() and w.isalnum() and w.lower() not in generator_words)
    control_lm = language.CharLM(itertools.islice(others, 100_000), order=default_lm.order)
    print(f"priors built in {time.perf_counter() - t:.1f} s")

    # 2. Probabilities of each set: the run's val and test splits, then the folders.
    sets = {}
    info = {} if pretrained else datasets.load_dataset_info(data)
    for split in () if pretrained else ("val", "test"):
        ds = datasets.make_dataset(datasets.shard_paths(data, split), 256, max(1, info["max_label_len"]), cs.blank,
                                   width=info["image_width"])
        images, labels = training.validation_arrays(ds, 0, cs)
        sets[split] = (rec.model.predict(images, batch_size=256, verbose=0), list(labels))
    for folder in args.folders:
        records = datasets.read_folder(folder)
        probs = rec.probabilities([r.path for r in records])
        sets[folder.name] = (probs, [r.label for r in records])

    def read(probs, prior=None, decoder="beam_lm"):
        ok = ~np.isnan(probs).any(axis=(1, 2))
        texts = [""] * len(probs)
        for i, d in zip(np.flatnonzero(ok), ctc.decode(probs[ok], cs, decoder, prior=prior)):
            texts[i] = d.text
        return texts

    result = {"run_dir": str(args.run_dir), "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "rendered_words": len(generator_words), "sweep": [], "sets": {}}
    # 3. The sweep on the validation split.
    if args.sweep:
        probs, labels = sets[args.sweep_on]
        for weight, bonus, mix in itertools.product((0.5, 0.65, 0.8, 1.0), (1.5, 2.0, 2.5, 3.0), (0.7, 0.9)):
            prior = language.LanguagePrior(default_lm, cs, weight, bonus, mix)
            s = metrics.score(labels, read(probs, prior))
            result["sweep"].append({"set": args.sweep_on, "weight": weight, "bonus": bonus, "mix": mix,
                                    "any_case": s["word_acc_ci"], "case_sensitive": s["word_acc"],
                                    "alnum36": s["word_acc_alnum36"]})
            print(f"{args.sweep_on} weight {weight} bonus {bonus} mix {mix}: {s['word_acc_ci']:.2%} any case, "
                  f"{s['word_acc_alnum36']:.2%} letters and digits", flush=True)
    # 4. Every set with each decoder.
    for name, (probs, labels) in sets.items():
        in_lexicon = float(np.mean([label.lower() in generator_words for label in labels]))
        row = {"n": len(labels), "labels_in_rendered_words": round(in_lexicon, 4)}
        for decoder, prior in (("greedy", None), ("beam", None), ("beam_lm", language.english_prior(cs)),
                               ("beam_lm_control", language.LanguagePrior(control_lm, cs))):
            t = time.perf_counter()
            texts = read(probs, prior, "beam_lm" if prior else decoder)
            s = metrics.score(labels, texts)
            row[decoder] = {"any_case": s["word_acc_ci"], "case_sensitive": s["word_acc"],
                            "alnum36": s["word_acc_alnum36"], "cer": s["cer"],
                            "ms_per_word": 1000 * (time.perf_counter() - t) / max(1, len(labels))}
        result["sets"][name] = row
        print(f"{name} (n={len(labels)}, {in_lexicon:.0%} in the run's rendered words): "
              + ", ".join(f"{d} {row[d]['any_case']:.2%}" for d in ("greedy", "beam", "beam_lm", "beam_lm_control")),
              flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
