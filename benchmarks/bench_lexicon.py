"""Lexicon decoding's cost per word on a run's test split, and its texts, to compare two versions of the decoder.

    python benchmarks/bench_lexicon.py RUN_DIR [--words 200] [--out texts.tsv]

Prints the lexicon's build time, ms per word (decoding only, after one forward pass) and any-case accuracy; --out
writes one line per word (text, confidence) so that two versions' outputs can be compared with `cmp`. The package is
imported from this checkout (not the installed one), so the script also measures an older commit checked out elsewhere:

    git worktree add /tmp/before f7cd07a^ && cp benchmarks/bench_lexicon.py /tmp/before/benchmarks/
    .venv/bin/python /tmp/before/benchmarks/bench_lexicon.py runs/default --out /tmp/before.tsv
    .venv/bin/python benchmarks/bench_lexicon.py runs/default --out /tmp/after.tsv && cmp /tmp/before.tsv /tmp/after.tsv
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--words", type=int, default=200, help="test images to decode (notebook 04's lexicon_images)")
    ap.add_argument("--out", type=Path, help="write 'text<TAB>confidence' per word")
    args = ap.parse_args(argv)

    import crnn_utils
    from crnn_utils import ctc, datasets, synth, training
    from crnn_utils.recognizer import Recognizer

    print("crnn_utils from", Path(crnn_utils.__file__).parent)
    data = args.run_dir / "data"
    lexicon_file = data / "synth" / "lexicon.txt"
    words = lexicon_file.read_text().split() if lexicon_file.is_file() else synth.lexicon()
    t = time.perf_counter()
    lexicon = ctc.build_lexicon(words)
    build = time.perf_counter() - t
    rec = Recognizer.from_run_dir(args.run_dir, lexicon=lexicon)
    info = datasets.load_dataset_info(data)
    ds = datasets.make_dataset(datasets.shard_paths(data, "test"), 256, max(1, info["max_label_len"]),
                               rec.charset.blank, width=info["image_width"])
    images, labels = training.validation_arrays(ds, args.words, rec.charset)
    probs = rec.model.predict(images, batch_size=256, verbose=0)
    t = time.perf_counter()
    read = ctc.decode(probs, rec.charset, decoder="lexicon", lexicon=lexicon)
    seconds = time.perf_counter() - t
    acc = sum(r.text.lower() == label.lower() for r, label in zip(read, labels)) / len(labels)
    print(f"{len(words):,} lexicon words indexed in {build:.2f} s; {len(labels)} test words: "
          f"{1000 * seconds / len(labels):.1f} ms a word, any case {acc:.1%}")
    if args.out:
        args.out.write_text("".join(f"{r.text}\t{r.confidence!r}\n" for r in read))


if __name__ == "__main__":
    main()
