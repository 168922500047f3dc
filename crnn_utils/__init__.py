"""crnn_utils: the helpers behind the crnn-notebooks (charset, images, records, readers, datasets, synth, model, ctc,
language, metrics, params, run_plan, training, recognizer, export, tesseract, progress, viz, cli)."""
import contextlib as _contextlib
import os as _os
import threading as _threading
import warnings as _warnings

# TensorFlow's C++ start-up chatter (oneDNN notices, CPU-feature hints) would land in every notebook's first output.
# Python exceptions still report real problems; set TF_CPP_MIN_LOG_LEVEL=0 yourself to see the C++ logs.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras warns at the end of every finite validation set passed to fit; it is expected here.
_warnings.filterwarnings("ignore", message="Your input ran out of data")


_STDERR_LOCK = _threading.RLock()  # re-entrant: a nested block in the same thread does not wait on itself
_SINK: list = []  # one temporary file, reused, that takes file descriptor 2 inside captured_stderr
_DEPTH = _threading.local()  # how many captured_stderr blocks this thread is inside


@_contextlib.contextmanager
def captured_stderr():
    """File descriptor 2 into a temporary file inside the block; the list it yields then holds what was written.

    C++ libraries (TensorFlow's start-up notices, libjpeg's "Corrupt JPEG data", TFLite's delegate notice) write
    there directly, past Python's sys.stderr and every log level. One block at a time, across threads."""
    import sys
    import tempfile

    text: list[str] = []
    with _STDERR_LOCK:
        try:
            saved = _os.dup(2)
        except OSError:  # no real stderr (a detached process, some embedded interpreters): nothing to catch
            yield text
            return
        if not _SINK:
            _SINK.append(tempfile.TemporaryFile())
        sink = _SINK[0].fileno()
        # A block inside another (same thread) takes only what is written after its start, and leaves the outer
        # block's text as it was.
        start = _os.fstat(sink).st_size if _DEPTH.__dict__.get("n", 0) else 0
        _os.ftruncate(sink, start)
        _os.lseek(sink, start, _os.SEEK_SET)
        try:
            sys.stderr.flush()
        except Exception:  # a closed or replaced sys.stderr
            pass
        _DEPTH.n = _DEPTH.__dict__.get("n", 0) + 1
        try:
            _os.dup2(sink, 2)
            yield text
        finally:
            _DEPTH.n -= 1
            _os.dup2(saved, 2)
            _os.close(saved)
            end = _os.fstat(sink).st_size
            if end > start:
                _os.lseek(sink, start, _os.SEEK_SET)
                text.append(_os.read(sink, min(end - start, 1 << 16)).decode("utf-8", "replace"))
                _os.ftruncate(sink, start)
                _os.lseek(sink, start, _os.SEEK_SET)


@_contextlib.contextmanager
def quiet_stderr():
    """Discard what C++ libraries write to file descriptor 2 inside the block (captured_stderr, then dropped)."""
    with captured_stderr():
        yield


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow once with the process's stderr silenced (its oneDNN notice ignores the log level)."""
    import sys

    if "tensorflow" in sys.modules:
        return
    with quiet_stderr():
        import tensorflow  # noqa: F401


_import_tensorflow_quietly()

__version__ = "0.1.0"

# Register the package's Keras layers (ReadingSpec, GreedyDecode), so that `import crnn_utils` is all a plain
# keras.models.load_model call needs to open the project's .keras files in safe mode.
from . import export as _export  # noqa: E402,F401
from . import model as _model  # noqa: E402,F401
