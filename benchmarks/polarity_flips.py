"""How often a trained run's polarity layer flips a word, and how much of the flipped and kept words it reads.

    .venv/bin/python benchmarks/polarity_flips.py RUN_DIR FOLDER [FOLDER ...]

For folders whose words are all dark on light (trdg's sets, the photographed page), every flip is a wrong one: this
is the layer's error rate there, and the flipped words' accuracy is what a wrong flip costs. The sign is read from the
model's own `polarity_sign` layer on the Recognizer's preprocessing, so it is the rule the model applies.
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
    probe = keras.Model(rec.model.input, [rec.model.get_layer("polarity_sign").output, rec.model.output])
    for folder in args.folders:
        records = read_folder(folder)
        batch, _, _ = rec.preprocess([r.path for r in records])  # an unreadable image stays blank: read as wrong
        sign, probs = probe.predict(batch, batch_size=256, verbose=0)
        flipped = np.asarray(sign).reshape(-1) < 0
        read = np.array([t.lower() == r.label.lower() for t, r in zip(greedy_texts(probs, rec.charset), records)])
        kept = read[~flipped].mean() if (~flipped).any() else float("nan")
        hit = read[flipped].mean() if flipped.any() else float("nan")
        print(f"{folder.name}: {flipped.sum()} of {len(records)} flipped ({flipped.mean():.1%}); read any case: "
              f"flipped {hit:.1%}, kept {kept:.1%}")


if __name__ == "__main__":
    main()
