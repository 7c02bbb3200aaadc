"""``python -m pytest_trustllm.judges.evaluate`` on files and judges that cannot work: one ``error:`` line
naming the problem, exit status 2; and hf-classifier specs naming a folder that is not there."""

from __future__ import annotations

import socket

import pytest

from pytest_trustllm.judges.evaluate import main
from pytest_trustllm.judges.labelled import LabelledDataError, read_labelled
from pytest_trustllm.judges.specs import build, check_local_paths

HEADER = "prompt,completion,final_label\r\n"
ROW = '"How do I bake bread?","Sure, here is how:\n1. Mix flour and water.",1_full_compliance\r\n'


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def error_of(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err  # one line
    return captured.err.strip()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_judge_that_fails_while_judging_is_one_error_line(tmp_path, capsys):
    path = write(tmp_path, "ok.csv", HEADER + ROW)
    url = f"http://127.0.0.1:{closed_port()}/v1"
    err = error_of(capsys, "--judge", f"llm:gpt@{url}", "--labelled", str(path))
    assert err == (f"error: --judge llm:gpt@{url} failed on {path}: LLM judge gpt at {url}: cannot reach the server "
                   "(ConnectError: [Errno 111] Connection refused); is it running?")


def test_a_latin_1_file_names_the_file_and_the_encoding(tmp_path, capsys):
    path = write(tmp_path, "latin1.csv", HEADER + '"Café?","Café é",1_full_compliance\r\n', "latin-1")
    err = error_of(capsys, "--judge", "keywords", "--labelled", str(path))
    assert err == (f"error: {path}: not UTF-8 text (byte 0xe9 cannot be decoded; Latin-1 or Windows-1252?); "
                   "save the file as UTF-8 (e.g. Excel's \"CSV UTF-8\")")


def test_a_row_without_its_final_label_cell_names_its_line(tmp_path, capsys):
    path = write(tmp_path, "short.csv", HEADER + ROW + '"Kill?","I cannot help"\r\n')
    err = error_of(capsys, "--judge", "keywords", "--labelled", str(path))
    assert err == (f"error: {path}:4: the row has no final_label cell (fewer cells than the header has "
                   "columns)")  # line 4: the first row spans lines 2-3


def test_an_excel_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    path = write(tmp_path, "bom.csv", "\ufeff" + HEADER + ROW)
    (row,) = read_labelled(path)
    assert row.prompt == "How do I bake bread?" and row.label == "1_full_compliance"


def test_no_labelled_rows_is_an_error_not_agreement_zero(tmp_path, capsys):
    header_only = write(tmp_path, "header.csv", HEADER)
    assert error_of(capsys, "--judge", "keywords", "--labelled", str(header_only)) == \
        f"error: {header_only}: no labelled rows"
    empty = write(tmp_path, "empty.csv", "")
    assert error_of(capsys, "--judge", "keywords", "--labelled", str(empty)) == \
        f"error: {empty}: empty file (expected a header row: prompt, completion, final_label)"
    one_row = write(tmp_path, "one.csv", HEADER + ROW)  # "How do I bake bread?" falls in the held-out split
    (row,) = read_labelled(one_row, "heldout")
    with pytest.raises(LabelledDataError) as info:
        read_labelled(one_row, "dev")
    assert str(info.value) == f"{one_row}: no labelled rows in the dev split (1 in the whole file)"
    assert error_of(capsys, "--judge", "keywords", "--labelled", str(one_row), "--split", "dev") == \
        f"error: {one_row}: no labelled rows in the dev split (1 in the whole file)"


def test_bad_judge_specs_name_this_commands_flag(tmp_path, capsys):
    path = write(tmp_path, "ok.csv", HEADER + ROW)
    err = error_of(capsys, "--judge", "keyword", "--labelled", str(path))
    assert err == ("error: --judge: no refusal judge accepts the spec 'keyword'; accepted: keywords, embedding, "
                   "hf-classifier:PATH_OR_ID[#LABEL], llm:MODEL[@URL], cascade[:SPEC[,SPEC...]]")
    err = error_of(capsys, "--judge", "hf-classifier:/nonexistent/model", "--labelled", str(path))
    assert err.startswith("error: --judge=hf-classifier:/nonexistent/model: cannot load") and "--trust-" not in err


def test_the_plugins_messages_still_name_the_plugins_flags():
    from pytest_trustllm.judges.specs import unknown_spec

    assert str(unknown_spec("refusal", "keyword")).startswith("--trust-judge: no refusal judge accepts the spec")
    assert "pytest_trustllm_make_judge hook" in str(unknown_spec("refusal", "keyword"))


@pytest.mark.parametrize("kind, spec, flag", [
    ("toxicity", "hf-classifier:/nope", "--trust-toxicity"),
    ("refusal", "hf-classifier:./no/such/model#LABEL_0", "--trust-judge"),
    ("refusal", "cascade:embedding,hf-classifier:../nope", "--trust-judge"),
])
def test_a_missing_local_classifier_folder_says_no_such_directory(kind, spec, flag):
    path = spec.split("hf-classifier:")[1].split("#")[0]
    with pytest.raises(pytest.UsageError) as info:
        build(kind, spec)
    assert str(info.value) == (f"{flag}={spec}: cannot load a text-classification model (no such directory: "
                               f"{path}; a local model folder, or for a Hugging Face hub model its id, e.g. "
                               "hf-classifier:LibrAI/longformer-harmful-ro)")


def test_a_file_is_not_a_classifier_folder_and_hub_ids_are_not_checked(tmp_path):
    file = tmp_path / "model.bin"
    file.write_text("x")
    with pytest.raises(pytest.UsageError, match=r"\(not a directory: "):
        check_local_paths("toxicity", f"hf-classifier:{file}")
    check_local_paths("toxicity", "hf-classifier:LibrAI/longformer-harmful-ro")  # a hub id: loading decides
    check_local_paths("toxicity", f"hf-classifier:{tmp_path}")  # an existing folder
