"""crnn_utils: the helpers behind the crnn-notebooks (charset, images, datasets, synth, model, ctc, metrics,
training, recognizer, export, viz)."""
import contextlib as _contextlib
import os as _os
import warnings as _warnings

# TensorFlow's C++ start-up chatter (oneDNN notices, CPU-feature hints) would land in every notebook's first output.
# Python exceptions still report real problems; set TF_CPP_MIN_LOG_LEVEL=0 yourself to see the C++ logs.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras warns at the end of every finite validation set passed to fit; it is expected here.
_warnings.filterwarnings("ignore", message="Your input ran out of data")


@_contextlib.contextmanager
def quiet_stderr():
    """Send file descriptor 2 to /dev/null inside the block: C++ libraries' notices that ignore every log level."""
    try:
        saved = _os.dup(2)
    except OSError:  # no real stderr (some embedded interpreters): nothing to silence
        yield
        return
    devnull = _os.open(_os.devnull, _os.O_WRONLY)
    try:
        _os.dup2(devnull, 2)
        yield
    finally:
        _os.dup2(saved, 2)
        _os.close(devnull)
        _os.close(saved)


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow once with the process's stderr silenced (its oneDNN notice ignores the log level)."""
    import sys

    if "tensorflow" in sys.modules:
        return
    with quiet_stderr():
        import tensorflow  # noqa: F401


_import_tensorflow_quietly()

__version__ = "0.1.0"
