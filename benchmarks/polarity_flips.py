"""How often a trained run's polarity layer flips a word, and how much of the flipped and kept words it reads.

    .venv/bin/python benchmarks/polarity_flips.py RUN_DIR FOLDER [FOLDER ...]

For folders whose words are all dark on light (trdg's sets, the photographed page), every flip is a wrong one: this
is the layer's error rate there, and the flipped words' accuracy is what a wrong flip costs. The sign is read from the
model's own `polarity_sign` layer on the Recognizer's preprocessing, so it is the rule the model applies.

"both ways" reads every image twice, as the layer leaves it and flipped (the model split after `polarity_norm`, the
rest run on p and -p), and keeps per image the reading whose greedy path is the more probable (sum over time steps
of the log of the top class probability): what deciding polarity by reading, instead of by the border, would give.
"flipped words read unflipped" is the ceiling of any better polarity rule on those words.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("folders", type=Path, nargs="+")
    args = ap.parse_args()

    import crnn_utils  # noqa: F401  (quiets TensorFlow first)
    import keras
    import numpy as np

    from crnn_utils.ctc import greedy_texts
    from crnn_utils.datasets import read_folder
    from crnn_utils.recognizer import Recognizer

    rec = Recognizer.from_run_dir(args.run_dir)
    if "polarity_sign" not in [layer.name for layer in rec.model.layers]:
        raise SystemExit(f"{args.run_dir}'s model has no polarity layer (built with polarity=False)")
    # One pass over each image: the sign and the reading come from the same preprocessed batch.
    norm = rec.model.get_layer("polarity_norm").output
    probe = keras.Model(rec.model.input, [rec.model.get_layer("polarity_sign").output, norm, rec.model.output])
    head = keras.Model(norm, rec.model.output)
    for folder in args.folders:
        records = read_folder(folder)
        batch, _, _ = rec.preprocess([r.path for r in records])  # an unreadable image stays blank: read as wrong
        sign, p, probs = probe.predict(batch, batch_size=256, verbose=0)
        other = head.predict(-p, batch_size=256, verbose=0)
        flipped = np.asarray(sign).reshape(-1) < 0

        def hits(pr):
            return np.array([t.lower() == r.label.lower() for t, r in zip(greedy_texts(pr, rec.charset), records)])

        def path_log_prob(pr):
            return np.log(np.maximum(pr.max(-1), 1e-30)).sum(-1)

        read, read_other = hits(probs), hits(other)
        swap = path_log_prob(other) > path_log_prob(probs)
        both = np.where(swap, read_other, read)
        kept = read[~flipped].mean() if (~flipped).any() else float("nan")
        hit = read[flipped].mean() if flipped.any() else float("nan")
        print(f"{folder.name}: {flipped.sum()} of {len(records)} flipped ({flipped.mean():.1%}); read any case: "
              f"flipped {hit:.1%}, kept {kept:.1%}, all {read.mean():.1%}; both ways: all {both.mean():.1%} "
              f"(flipped {both[flipped].mean() if flipped.any() else float('nan'):.1%}, "
              f"kept {both[~flipped].mean() if (~flipped).any() else float('nan'):.1%}), "
              f"{swap.mean():.1%} swapped; flipped words read unflipped: "
              f"{read_other[flipped].mean() if flipped.any() else float('nan'):.1%}")


if __name__ == "__main__":
    main()
