"""Native libraries' routine log notices are dropped from fd 2 around their code; errors,
Python's own writes and a progress bar's redraws pass at once."""

import os
import threading

from ferbench_plugins.native_log import glog_notices_dropped

FEEDBACK = (
    b"W0000 00:00:1795943212.901630   11383 inference_feedback_manager.cc:114] Feedback manager requires a model\n"
)
ERROR = b"E0000 00:00:1795943212.935129   11382 calculator_graph.cc:887] a real error\n"


def test_routine_notices_are_dropped_and_everything_else_passes(capfd):
    with glog_notices_dropped():
        os.write(2, FEEDBACK)
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        graph_thread = threading.Thread(target=os.write, args=(2, b"I0000 00:00:1.5 7 gl_context.cc:369] GL 3.2\n"))
        graph_thread.start()
        graph_thread.join()
        os.write(2, ERROR)
        with open(2, "w", closefd=False) as stderr:  # sys.stderr as a run has it (pytest swaps its own in)
            print("progress 3/9\r", end="", file=stderr, flush=True)  # a bar's redraw, without a newline
            print("Python's own line", file=stderr)
    os.write(2, FEEDBACK)  # outside the block nothing is filtered
    assert capfd.readouterr().err == ERROR.decode() + "progress 3/9\rPython's own line\n" + FEEDBACK.decode()


def test_a_notice_written_in_two_pieces_is_dropped_whole(capfd):
    """TFLite's logger writes its severity and its message with two calls."""
    with glog_notices_dropped():
        os.write(2, b"INFO: ")
        os.write(2, b"Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"INFO: unfinished")  # when the block ends: still judged as a line
    assert capfd.readouterr().err == ""


def test_fd_2_is_itself_again_after_the_block(capfd):
    before = os.fstat(2)
    with glog_notices_dropped():
        assert os.fstat(2).st_ino != before.st_ino  # the pipe
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_threads_share_one_filter_and_the_last_out_restores_fd_2(capfd):
    before = os.fstat(2)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with glog_notices_dropped():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with glog_notices_dropped():
            second_in.set()
            first_out.wait(5)
            os.write(2, FEEDBACK)  # the first thread has left: still filtered
            os.write(2, ERROR)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert capfd.readouterr().err == ERROR.decode()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
