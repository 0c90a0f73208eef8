"""The base file I/O: locks, atomic writes of files and directories."""
import pytest

from seqclf import ModelDirError
from seqclf.artifacts import WEIGHTS


def test_a_locked_directory_is_refused_naming_the_holder(fitted, tmp_path):
    import subprocess
    import sys
    import textwrap

    target = tmp_path / "m"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from seqclf.fileio import locked
        with locked(Path({str(target)!r})):
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ModelDirError, match=rf"in use by another seqclf process \(pid {holder.pid}"):
            fitted.save(target)
        assert not target.exists()
    finally:
        holder.kill()  # a crash: the kernel releases the lock
        holder.wait()
    assert fitted.save(target) == target and (target / WEIGHTS).is_file()


def test_the_lock_is_reentrant_and_leaves_no_file(fitted, tmp_path):
    from seqclf.fileio import lock_path, locked

    target = tmp_path / "m"
    with locked(target):
        fitted.save(target)  # the process that holds the lock may save
        assert lock_path(target).is_file()
    assert not lock_path(target).exists()


def test_an_atomic_file_write_that_fails_leaves_the_old_file(tmp_path):
    from seqclf.fileio import write_file_atomically

    target = tmp_path / "checkpoint.bin"
    write_file_atomically(target, lambda temporary: temporary.write_bytes(b"first"))

    def full_disk(temporary):
        temporary.write_bytes(b"par")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_file_atomically(target, full_disk)
    assert target.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.bin"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_directory_replacement_carries_what_it_is_told_and_fails_whole(tmp_path):
    from seqclf.fileio import replacing_directory

    target = tmp_path / "d"
    with replacing_directory(target) as staging:
        (staging / "ours.txt").write_text("1")
    (target / "notes.txt").write_text("keep me")
    with replacing_directory(target, carry=lambda name: name == "notes.txt") as staging:
        (staging / "ours.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt", "ours.txt"]
    assert (target / "ours.txt").read_text() == "2" and (target / "notes.txt").read_text() == "keep me"
    with pytest.raises(RuntimeError):
        with replacing_directory(target) as staging:
            (staging / "ours.txt").write_text("3")
            raise RuntimeError("failed half way")
    assert (target / "ours.txt").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no staging left
