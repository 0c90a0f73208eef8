"""The thread policy: the count asked or measured from the cores other processes leave free; passive waiting
set before PyTorch loads, and only when other processes keep cores busy."""
import os
import subprocess
import sys

import pytest

from seqclf import threads
from seqclf.threads import ThreadChoice, choose_threads, cores_taken


def test_other_processes_busy_time_becomes_cores_taken():
    # 2 cores, 1 s at 100 ticks/s: 200 ticks; one other process busy all along (100 ticks), this one idle
    assert cores_taken(100, 200, own_seconds=0.0, elapsed=1.0, cores=2) == 1
    # the same busy ticks were this process's own import: nothing taken
    assert cores_taken(100, 200, own_seconds=1.0, elapsed=1.0, cores=2) == 0
    assert cores_taken(0, 200, own_seconds=0.0, elapsed=1.0, cores=2) == 0
    assert cores_taken(200, 200, own_seconds=0.0, elapsed=1.0, cores=2) == 2
    assert cores_taken(40, 200, own_seconds=0.0, elapsed=1.0, cores=2) == 0  # 40% of a core: not taken


def test_asked_threads_win_and_so_does_omp_num_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert choose_threads(3) == ThreadChoice(3, threads.usable_cores(), 0, asked=True)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    choice = choose_threads()
    assert choice.threads == 1 and choice.asked and not choice.reduced


def test_measured_threads_leave_the_taken_cores(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "_sampler", None)
    monkeypatch.setattr(threads._Sampler, "result", lambda self: 3)
    choice = choose_threads()
    assert (choice.threads, choice.cores, choice.taken, choice.reduced) == (1, 4, 3, True)
    assert choose_threads(share=2).threads == 1  # under torchrun, two processes share the 4 cores: 2 each, less 3


def without_policy(monkeypatch):
    """No OMP_WAIT_POLICY for the test, and whatever the code sets removed after it."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "placeholder")
    monkeypatch.delenv("OMP_WAIT_POLICY")


@pytest.mark.parametrize("taken, expected", [(1, "PASSIVE"), (0, None)])
def test_threads_wait_passively_only_when_other_processes_keep_cores_busy(monkeypatch, taken, expected):
    without_policy(monkeypatch)
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a command that has not loaded PyTorch yet
    monkeypatch.setattr(threads, "_sampler", None)
    monkeypatch.setattr(threads._Sampler, "result", lambda self: taken)
    threads.settle_wait_policy()
    assert os.environ.get("OMP_WAIT_POLICY") == expected


def test_the_wait_policy_is_never_set_after_pytorch_loads_nor_over_the_users(monkeypatch):
    monkeypatch.setattr(threads._Sampler, "result", lambda self: 1)
    without_policy(monkeypatch)
    monkeypatch.setitem(sys.modules, "torch", sys)  # PyTorch loaded: too late to matter, so left alone
    threads.settle_wait_policy()
    assert "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    threads.settle_wait_policy()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_command_settles_the_policy_before_it_loads_pytorch():
    """`seqclf train --help`-free check: the command line module loads without PyTorch, so the policy set in
    `main` before a command runs is in place when the command imports it."""
    done = subprocess.run([sys.executable, "-c", "import seqclf.cli, sys; print('torch' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"



# After the code under test: a parallel operation on every thread of PyTorch's pool, inside `denormals_flushed`
# (denormals it leaves: threads that do not flush) and outside (the caller's thread computes as before)
DENORMALS_LEFT = """
import torch
from seqclf import TextClassifier
from seqclf.data.demo import demo_corpus
from seqclf.deploy.backend import BackendConfig
from seqclf.threads import denormals_flushed
texts, labels = demo_corpus(120, seed=4)
{code}
x = torch.full((1_000_000,), 1e-39)  # denormal
with denormals_flushed():
    inside = int((x * 1.0 != 0).sum())
print(torch.get_num_threads(), inside, 1e-310 * float(sys.argv[2]) != 0)
"""


@pytest.mark.parametrize("code", [
    "TextClassifier(epochs=1, threads=2).fit(texts, labels)",
    "TextClassifier.load(sys.argv[1], backend=BackendConfig('torch', threads=2)).predict(texts)",
], ids=["fit", "predict"])
def test_every_thread_of_the_pool_flushes_denormals_and_the_callers_own_setting_is_kept(code, model_dir):
    # each thread has its own flag, inherited from the thread that starts it: so it must be set before the pool
    # starts (a fit's first parallel operation, a model's weights loading), or half the products stay denormal
    printed = subprocess.run([sys.executable, "-c", "import sys\n" + DENORMALS_LEFT.format(code=code), model_dir, "1"],
                             capture_output=True, text=True, check=True).stdout.split()[-3:]  # after the report
    assert printed == ["2", "0", "True"]
