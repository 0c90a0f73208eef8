"""The base file I/O: locks, atomic writes of files and directories."""
import pytest

from seqclf import ModelDirError
from seqclf.model_files import WEIGHTS
from seqclf.errors import WriteError


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


def test_an_atomic_file_write_that_fails_leaves_the_old_file_and_names_it(tmp_path):
    from seqclf.fileio import write_file_atomically

    target = tmp_path / "checkpoint.bin"
    write_file_atomically(target, lambda temporary: temporary.write_bytes(b"first"))

    def full_disk(temporary):
        temporary.write_bytes(b"par")
        raise OSError(28, "No space left on device")

    with pytest.raises(WriteError) as failure:
        write_file_atomically(target, full_disk)
    assert str(failure.value) == f"cannot write {target}: No space left on device; the previous one is as it was"
    assert target.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.bin"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_no_directory_it_made(tmp_path):
    from seqclf.fileio import write_file_atomically

    target = tmp_path / "new" / "deeper" / "checkpoint.bin"
    with pytest.raises(WriteError, match="no file was written"):
        write_file_atomically(target, full_disk_from_a_library)
    assert list(tmp_path.iterdir()) == []


def full_disk_from_a_library(path):
    """What safetensors raises when the disk fills: not an OSError."""
    from safetensors import SafetensorError

    path.write_bytes(b"half")
    raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")


def test_several_files_are_written_all_or_none(tmp_path):
    from seqclf.fileio import write_files_atomically

    report = tmp_path / "report"
    with pytest.raises(WriteError) as failure:
        write_files_atomically(report, {"report.json": lambda path: path.write_text("{}"),
                                        "picture.png": full_disk_from_a_library})
    assert failure.value.path == report / "picture.png" and "none of the files was written" in str(failure.value)
    assert list(tmp_path.iterdir()) == []  # not even the directory
    report.mkdir()
    (report / "report.json").write_text("old")
    with pytest.raises(WriteError):
        write_files_atomically(report, {"report.json": lambda path: path.write_text("new"),
                                        "picture.png": full_disk_from_a_library})
    assert [p.name for p in report.iterdir()] == ["report.json"] and (report / "report.json").read_text() == "old"
    assert write_files_atomically(report, {"report.json": lambda path: path.write_text("new")}) == [report / "report.json"]
    assert (report / "report.json").read_text() == "new"


def test_a_directory_replacement_carries_what_it_is_told_and_fails_whole(tmp_path):
    from seqclf.fileio import replace_directory

    target = tmp_path / "d"
    replace_directory(target, {"ours.txt": lambda path: path.write_text("1")})
    (target / "notes.txt").write_text("keep me")
    replace_directory(target, {"ours.txt": lambda path: path.write_text("2")}, carry=lambda name: name == "notes.txt")
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt", "ours.txt"]
    assert (target / "ours.txt").read_text() == "2" and (target / "notes.txt").read_text() == "keep me"
    with pytest.raises(WriteError) as failure:
        replace_directory(target, {"ours.txt": lambda path: path.write_text("3"), "weights": full_disk_from_a_library})
    assert str(failure.value).startswith(f"cannot write {target / 'weights'}: Error while serializing")
    assert str(failure.value).endswith(f"; {target} is as it was")
    assert (target / "ours.txt").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no staging left
    with pytest.raises(RuntimeError):  # anything else stays what it is, and changes nothing either
        replace_directory(tmp_path / "new" / "e", {"ours.txt": lambda path: (_ for _ in ()).throw(RuntimeError("bug"))})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_the_lock_removes_the_directories_it_made_when_nothing_was_written_in_them(tmp_path):
    from seqclf.fileio import locked

    with locked(tmp_path / "new" / "model"):
        assert (tmp_path / "new").is_dir()
    assert list(tmp_path.iterdir()) == []
    with locked(tmp_path / "kept" / "model"):
        (tmp_path / "kept" / "model").mkdir()
    assert (tmp_path / "kept" / "model").is_dir()
