"""crnn_utils: the helpers behind the crnn-notebooks (charset, images, datasets, synth, model, ctc, metrics,
training, recognizer, export, viz)."""
import os as _os
import warnings as _warnings

# TensorFlow's C++ start-up chatter (oneDNN notices, CPU-feature hints) would land in every notebook's first output.
# Python exceptions still report real problems; set TF_CPP_MIN_LOG_LEVEL=0 yourself to see the C++ logs.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras warns at the end of every finite validation set passed to fit; it is expected here.
_warnings.filterwarnings("ignore", message="Your input ran out of data")


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow once with the process's stderr silenced (its oneDNN notice ignores the log level)."""
    import sys

    if "tensorflow" in sys.modules:
        return
    try:
        saved = _os.dup(2)
    except OSError:  # no real stderr (some embedded interpreters): import normally
        import tensorflow  # noqa: F401
        return
    devnull = _os.open(_os.devnull, _os.O_WRONLY)
    try:
        _os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        _os.dup2(saved, 2)
        _os.close(devnull)
        _os.close(saved)


_import_tensorflow_quietly()

__version__ = "0.1.0"
