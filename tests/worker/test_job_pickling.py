"""What the worker pickles for its run processes unpickles to what it was (copies.pickled_by_slots)."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from pyoco_worker.execution import Installed
from pyoco_worker.protocol import Cancel, ProgressRequest, RunJob
from pyoco_worker.taskfiles import CodeFile
from tests.support.samples import A_JOB, FULL_JOB

texts = st.text(max_size=5)
code_files = st.builds(CodeFile, texts, texts, st.integers(0), st.integers(0), st.none() | texts)
run_jobs = st.builds(
    RunJob,
    st.sampled_from([A_JOB, FULL_JOB]),
    st.builds(Installed, st.tuples(texts), st.tuples(texts), st.tuples(texts)),
    st.lists(code_files, max_size=2).map(tuple),
)


@settings(max_examples=100, deadline=None)
@given(run_jobs)
def test_a_job_for_a_run_process_unpickles_to_what_was_pickled(run_job: RunJob) -> None:
    for protocol in (2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        copy = pickle.loads(pickle.dumps(run_job, protocol))
        assert copy == run_job
        assert type(copy.job.retry) is type(run_job.job.retry)
    assert RunJob.__getstate__(run_job) == (run_job.job, run_job.installed, run_job.pins)


def test_control_messages_unpickle_to_what_was_pickled() -> None:
    for message in (Cancel("run-1"), ProgressRequest("run-2")):
        assert pickle.loads(pickle.dumps(message, pickle.HIGHEST_PROTOCOL)) == message
