"""`seqclf serve`'s start-up checks, in-process: a key that is set is a usable key whatever its source, and
the timeouts are finite numbers; when one is not, the command stops with one line and exit 2, and no server
is made or started."""
import pytest

import seqclf.server
from seqclf.cli import main
from seqclf.server import ServeAccess
from seqclf.serving_guards import read_api_key

BAD_KEYS = ["", "  ", "\n", "a b", "\tkey", "cl\u00e9", "key\x00"]
SOURCES = {
    # the file's content less one line ending; the variable as it is (an environment cannot hold NUL)
    "file": [(key, "api.key: field 'api-key-file'") for key in BAD_KEYS],
    "environment": [(key, "SEQCLF_API_KEY") for key in BAD_KEYS if "\x00" not in key],
}


@pytest.fixture
def never_served(monkeypatch):
    """Fails the test if `seqclf serve` gets as far as making the app or starting the server."""
    started = []
    monkeypatch.setattr(seqclf.server, "create_app", lambda *args, **kwargs: started.append("create_app"))
    monkeypatch.setattr(seqclf.server, "serve", lambda *args, **kwargs: started.append("serve"))
    monkeypatch.delenv("SEQCLF_API_KEY", raising=False)
    yield started
    assert started == [], "the server was made or started"


def stops_with_one_line(capsys, argv):
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 2, printed
    assert printed.out == "" and "Traceback" not in printed.err
    (line,) = printed.err.strip().splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize("source, key, named", [(source, key, named) for source, cases in SOURCES.items()
                                                 for key, named in cases],
                         ids=[f"{source}-{key!r}" for source, cases in SOURCES.items() for key, _ in cases])
def test_an_unusable_key_stops_the_command_from_any_source(never_served, capsys, monkeypatch, tmp_path, model_dir,
                                                            source, key, named):
    argv = ["serve", str(model_dir)]
    if source == "file":
        (tmp_path / "api.key").write_bytes(key.encode("utf-8"))
        argv += ["--api-key-file", str(tmp_path / "api.key")]
    else:
        monkeypatch.setenv("SEQCLF_API_KEY", key)
    line = stops_with_one_line(capsys, argv)
    assert named in line and ("openssl rand" in line) and "key" in line
    assert line.isprintable()  # a control character of the key is shown escaped


def test_a_key_given_both_ways_stops_the_command(never_served, capsys, monkeypatch, tmp_path, model_dir):
    (tmp_path / "api.key").write_text("k3y-from-the-file\n")
    monkeypatch.setenv("SEQCLF_API_KEY", "k3y-from-the-environment")
    line = stops_with_one_line(capsys, ["serve", str(model_dir), "--api-key-file", str(tmp_path / "api.key")])
    assert "--api-key-file" in line and "SEQCLF_API_KEY" in line


def test_usable_keys_are_read_as_written(tmp_path):
    (tmp_path / "api.key").write_text("k3y.-_~+/=\n")  # one line ending is not part of the key
    assert read_api_key(str(tmp_path / "api.key"), {}) == "k3y.-_~+/="
    assert read_api_key(None, {"SEQCLF_API_KEY": "k3y"}) == "k3y"
    assert read_api_key(None, {}) is None  # neither: no key, and a warning off loopback


@pytest.mark.parametrize("key", BAD_KEYS)
def test_the_python_api_refuses_the_same_keys(key):
    with pytest.raises(seqclf.SeqclfError, match="field 'api_key': the API key"):
        ServeAccess(key)


@pytest.mark.parametrize("flag, value", [("--header-timeout", value) for value in ("0", "-1", "1e9")]
                         + [("--shutdown-timeout", value) for value in ("-1", "1e9")])
def test_timeouts_are_in_range(never_served, capsys, model_dir, flag, value):
    """(NaN and infinities: tests/unit/test_arguments.py, for every float flag.)"""
    line = stops_with_one_line(capsys, ["serve", str(model_dir), flag, value])
    assert f"field '{flag[2:]}': must be between" in line
