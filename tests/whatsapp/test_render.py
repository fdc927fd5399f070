"""The services' replies drawn within WhatsApp's limits: buttons, lists, lengths, pieces."""

from __future__ import annotations

import pytest

from bot.outgoing import Attachment, Button, Reply, split_text
from bot.residents.phones import language_of_number
from handlers.whatsapp.render import MAX_BODY, draw, offered


def choices(*labels: str) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(label, f"d{n}"),) for n, label in enumerate(labels))


def test_three_choices_are_reply_buttons_cut_to_twenty_characters() -> None:
    [message] = draw(Reply("Do you agree?", choices("Yes, I agree", "No, not now, thank you")))
    assert message.kind == "buttons" and message.text == "Do you agree?"
    assert [(c.title, c.data) for c in message.choices] == [
        ("Yes, I agree", "d0"),
        ("No, not now, thank…", "d1"),
    ]
    assert all(len(c.title) <= 20 for c in message.choices)


def test_four_to_ten_choices_are_a_list_whose_cut_rows_keep_their_whole_label() -> None:
    labels = [f"{n}. المنطقة {n} (Municipio {n})" for n in range(1, 10)] + ["10. خارج ميلانو"]
    [message] = draw(Reply("أين تسكن؟", choices(*labels)))
    assert message.kind == "list" and len(message.choices) == 10
    first = message.choices[0]
    assert len(first.title) <= 24 and first.description == "1. المنطقة 1 (Municipio 1)"
    assert message.choices[-1].description is None  # it fits: no need to repeat it


def test_more_than_ten_keep_the_choices_and_leave_the_rest_to_typed_words() -> None:
    labels = [f"{n}. Municipio {n}" for n in range(1, 11)]
    rows = (*choices(*labels), (Button("« Back", "back"), Button("✕ Cancel", "cancel")))
    [message] = draw(Reply("Where do you live?", rows))
    assert message.kind == "list"
    assert [c.data for c in message.choices] == [f"d{n}" for n in range(10)]


def test_a_long_text_goes_first_and_its_last_paragraph_carries_the_buttons() -> None:
    notice = "\n".join(f"Line {n} of the privacy notice." for n in range(60))
    *before, question = draw(Reply(f"{notice}\n\nDo you agree?", choices("Yes", "No")))
    assert [m.kind for m in before] == ["text"] and before[0].text == notice
    assert question.kind == "buttons" and question.text == "Do you agree?"
    assert len(question.text) <= MAX_BODY


def test_texts_over_4096_characters_go_in_pieces_and_files_as_documents() -> None:
    text = "\n".join("x" * 100 for _ in range(90))  # 9,089 characters
    drawn = draw(Reply(text, attachment=Attachment("mydata.json", b"{}")))
    assert [m.kind for m in drawn] == ["text", "text", "text", "document"]
    assert all(len(m.text) <= 4096 for m in drawn)
    assert "\n".join(m.text for m in drawn[:3]) == text
    assert (drawn[-1].filename, drawn[-1].content) == ("mydata.json", b"{}")


def test_split_text_keeps_the_order_of_long_lines() -> None:
    text = "short\n" + "y" * 25 + "\nend"
    pieces = split_text(text, 10)
    assert all(len(p) <= 10 for p in pieces)
    assert "".join(p.replace("\n", "") for p in pieces) == text.replace("\n", "")


@pytest.mark.parametrize(
    ("number", "language"),
    [
        ("201001234567", "ar"),  # Egypt
        ("+212 612 345 678", "ar"),  # Morocco
        ("639171234567", "fil"),
        ("8613800138000", "zh"),
        ("40712345678", "ro"),
        ("380501234567", "uk"),
        ("94771234567", "si"),
        ("8801712345678", "bn"),
        ("355691234567", "sq"),
        ("923001234567", "ur"),
        ("51987654321", "es"),
        ("593991234567", "es"),
        ("393331234567", "it"),
        ("12025550123", None),
        ("", None),
    ],
)
def test_a_number_hints_at_the_language_of_its_country(number: str, language: str | None) -> None:
    assert language_of_number(number) == language


def test_more_choices_than_a_list_holds_are_numbered_for_typing() -> None:
    languages = [f"Language {n}" for n in range(1, 15)]
    reply = Reply("Which language?", (tuple(Button(label, label) for label in languages),))
    [message] = draw(reply)
    assert message.kind == "text"
    assert message.text.endswith("13. Language 13\n14. Language 14")
    assert offered(reply)[13] == "Language 14"
    # Choices one to a row beside Back and Cancel: the list has the choices, as typed numbers.
    labels = [f"{n}. Municipio {n}" for n in range(1, 11)]
    rows = (*choices(*labels), (Button("« Back", "back"), Button("✕ Cancel", "cancel")))
    assert offered(Reply("Where do you live?", rows)) == [f"d{n}" for n in range(10)]
