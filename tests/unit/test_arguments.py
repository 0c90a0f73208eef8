"""The command's own numbers (flags that are not settings): every float flag of every sub-command refuses
NaN and infinities, naming the flag; found by walking the parser, so a flag added later is covered."""
import argparse

import pytest

from seqclf.arguments import NUMBER_RANGES, check_numbers, parser
from seqclf.flag_builders import SECTION_TITLES
from seqclf.errors import SeqclfError

NOT_FINITE = ["nan", "NaN", "inf", "-inf", "1e999", "-1e999", "infinity"]


def sub_commands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def float_flags() -> list[tuple[str, str]]:
    """(command, flag) for every option whose type turns text into a float (float, duration, ...)."""
    found = []
    for name, command in sub_commands().items():
        for action in command._actions:
            if action.option_strings and action.type is not None and isinstance(action.type("1"), float):
                found.append((name, action.option_strings[0]))
    return found


def minimal_argv(name: str) -> list[str]:
    """The sub-command with its required arguments, each given a placeholder."""
    argv = [name]
    for action in sub_commands()[name]._actions:
        if not action.option_strings and action.nargs in (None, 1):
            argv.append("x")
        elif action.option_strings and action.required:
            argv.append(f"{action.option_strings[0]}=x")
    return argv


def refused(argv: list[str], flag: str, capsys) -> bool:
    try:
        check_numbers(parser().parse_args(argv))
    except SystemExit as exc:
        return exc.code == 2 and flag in capsys.readouterr().err
    except SeqclfError as exc:
        return flag.lstrip("-") in str(exc)
    return False


def test_the_walk_finds_the_float_flags():
    assert {("tune", "--budget"), ("serve", "--shutdown-timeout")} <= set(float_flags())


@pytest.mark.parametrize("command, flag", float_flags())
def test_every_float_flag_refuses_nan_and_infinities_by_name(command, flag, capsys):
    check_numbers(parser().parse_args([*minimal_argv(command), f"{flag}=1"]))  # a finite value passes
    for value in NOT_FINITE:
        assert refused([*minimal_argv(command), f"{flag}={value}"], flag, capsys), (command, flag, value)


def test_every_number_range_names_a_flag():
    dests = {action.dest for command in sub_commands().values() for action in command._actions}
    assert set(NUMBER_RANGES) <= dests, set(NUMBER_RANGES) - dests


@pytest.mark.parametrize("command, argument, message", [
    ("serve", "--shutdown-timeout=-1", "field 'shutdown-timeout': must be between 0 and 86400, got -1.0"),
    ("tune", "--trials=0", "field 'trials': must be at least 1, got 0"),
])
def test_numbers_out_of_range_are_refused_by_name(command, argument, message):
    with pytest.raises(SeqclfError) as refusal:
        check_numbers(parser().parse_args([*minimal_argv(command), argument]))
    assert str(refusal.value) == message


def test_train_help_groups_the_settings_by_stage_in_the_pipeline_order():
    help_text = sub_commands()["train"].format_help()
    starts = [help_text.index(title + ":") for title in SECTION_TITLES.values()]
    assert starts == sorted(starts)
    stage_2 = help_text[starts[1]:starts[2]]
    assert "--max-len" in stage_2 and "--long-text" in stage_2 and "--embed-dim" not in stage_2
    assert "--embed-dim" in help_text[starts[2]:starts[3]] and "--lr " in help_text[starts[3]:]


def test_threads_is_a_flag_of_train_and_of_every_command_that_runs_a_model():
    for argv in (["train", "data.tsv", "--out", "m"], ["predict", "m", "a text"], ["evaluate", "m", "data.tsv"],
                 ["serve", "m"]):
        args = parser().parse_args([*argv, "--threads", "1"])
        check_numbers(args)  # a setting's flag arrives as text: checked by its config, never compared here
        assert str(args.threads) == "1"


def visible_flags() -> list[tuple[str, argparse.Action]]:
    """(command, action) for every flag `--help` shows."""
    return [(name, action) for name, command in sub_commands().items() for action in command._actions
            if action.option_strings and action.help is not argparse.SUPPRESS]


def test_every_flag_and_argument_has_help():
    missing = [(name, action.option_strings or action.dest) for name, command in sub_commands().items()
               for action in command._actions if not action.help]
    assert not missing


def test_a_flag_name_means_one_thing_in_every_command():
    """Same flag, same setting: `--input-format` is the input's everywhere, `--output-format` predict's output.
    One flag keeps two destinations for one meaning: tune's `--ensemble` is the final model's ensemble size,
    checked before the search rather than after it."""
    same_meaning = {"--ensemble": {"ensemble", "final_ensemble"}}
    destinations: dict[str, set[str]] = {}
    for _, action in visible_flags():
        for flag in action.option_strings:
            destinations.setdefault(flag, set()).add(action.dest)
    shared = {flag: dests for flag, dests in destinations.items() if len(dests) > 1}
    assert shared == same_meaning
    assert "--format" not in destinations  # only the hidden old spelling is left
    assert destinations["--input-format"] == {"format"}


def test_old_spellings_still_work_for_one_release_and_say_the_new_name(capsys):
    predicted = parser().parse_args(["predict", "m", "text", "--format", "tsv"])
    assert predicted.output_format == "tsv" and predicted.format is None
    assert "--format is now --output-format" in capsys.readouterr().err
    trained = parser().parse_args(["train", "d.csv", "--out", "m", "--format", "csv"])
    assert trained.format == "csv"
    assert "--format is now --input-format" in capsys.readouterr().err
    tuned = parser().parse_args(["tune", "d.csv", "--valid", "v.csv", "--out", "o", "--seed", "3"])
    assert tuned.search_seed == 3 and "--seed is now --search-seed" in capsys.readouterr().err
    assert "--format" not in sub_commands()["predict"].format_help()


@pytest.mark.parametrize("argv, missing", [(["train"], "DATA, --out"), (["predict"], "MODEL"),
                                           (["evaluate", "model"], "DATA"), (["tune", "d.csv"], "--out, --valid")])
def test_a_usage_error_is_short_and_names_what_is_missing(argv, missing, capsys):
    with pytest.raises(SystemExit) as exit:
        parser().parse_args(argv)
    lines = capsys.readouterr().err.splitlines()
    assert exit.value.code == 2 and len(lines) == 3, lines
    assert lines[0].startswith(f"usage: seqclf {argv[0]} ") and len(lines[0]) < 100
    assert lines[1] == f"seqclf {argv[0]}: error: the following arguments are required: {missing}"
    assert lines[2] == f"every flag: seqclf {argv[0]} --help"


@pytest.mark.parametrize("command, groups", [
    ("predict", ["stage 1, raw text: the input", "stage 2, long texts", "the output", "the engine"]),
    ("evaluate", ["the report", "stage 1, raw text: reading DATA", "stage 2, long texts", "the engine"]),
    ("serve", ["the server", "requests: limits and access", "the engine"]),
])
def test_the_commands_that_read_a_model_group_their_flags(command, groups):
    help_text = sub_commands()[command].format_help()
    starts = [help_text.index("\n" + title) for title in groups]
    assert starts == sorted(starts)
    assert help_text.index("--backend") > starts[-1]
