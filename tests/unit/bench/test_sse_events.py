"""StreamState.feed_events, the client's per-read hot path: every shape it shortcuts or not."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unitcost.bench.sse import MalformedStream, SSEBuffer, StreamErrorEvent, StreamState


def ev(obj: object) -> tuple[bytes, bytes]:
    return (b"", json.dumps(obj).encode())


def delta(d: dict[str, object], finish: str | None = None, **extra: object) -> tuple[bytes, bytes]:
    return ev({"choices": [{"index": 0, "delta": d, "finish_reason": finish}], **extra})


def test_role_only_and_empty_content_are_not_content() -> None:
    st = StreamState()
    st.feed_events([delta({"role": "assistant", "content": ""})], 10)
    st.feed_events([delta({"role": "assistant"}), delta({"content": None})], 20)
    assert st.first_chunk_ns is None and st.content_chunks == 0 and st.events == 3
    st.feed_events([delta({"content": "a"})], 30)
    assert st.first_chunk_ns == 30 and st.content_chunks == 1


def test_escaped_and_unicode_content_is_text() -> None:
    st = StreamState()
    st.feed_events([delta({"content": '"\n\\'}), delta({"content": "é\u2028"})], 5)
    st.feed_events([delta({"content": " "})], 9)
    assert st.text == '"\n\\é\u2028 ' and st.content_chunks == 3
    assert st.chunk_gaps_ns == [0, 4]  # events of one read share its stamp


def test_extra_keys_usage_on_finish_chunk_and_bare_choices() -> None:
    st = StreamState()
    st.feed_events(
        [
            ev({"choices": [{"delta": {"content": "x"}}]}),  # only `choices`: the short path
            delta({"content": "y"}, None, id="c1", model="m", object="chat.completion.chunk"),
            delta({}, "stop", usage={"prompt_tokens": 3, "completion_tokens": 2}),
        ],
        7,
    )
    assert (st.prompt_tokens, st.output_tokens, st.finish_reason) == (3, 2, "stop")
    assert st.complete and not st.done and st.content_chunks == 2


def test_usage_only_chunk_and_done_with_spaces() -> None:
    st = StreamState()
    st.feed_events([ev({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 4}})], 1)
    st.feed_events([(b"", b" [DONE] "), delta({"content": "late"})], 2)
    assert st.done and st.output_tokens == 4 and st.content_chunks == 0  # stops at [DONE]


def test_reasoning_and_completions_text() -> None:
    st = StreamState()
    st.feed_events([delta({"reasoning_content": "think"}), delta({"reasoning": "more"})], 1)
    st.feed_events([ev({"choices": [{"text": "done", "finish_reason": "length"}]})], 2)
    assert st.text == "thinkmoredone" and st.finish_reason == "length"


def test_leading_whitespace_json_is_parsed() -> None:
    st = StreamState()
    st.feed_events([(b"", b'  {"choices": [{"delta": {"content": "z"}}]}')], 3)
    assert st.content_chunks == 1


@pytest.mark.parametrize(
    ("events", "exc"),
    [
        ([(b"", b'{"choices": [{"delta": {"content": "a"')], MalformedStream),  # truncated
        ([(b"", b"[1, 2]")], MalformedStream),
        ([(b"", b'{"choices": "no"}')], MalformedStream),
        (
            [(b"", b'{"choices": [{"delta": {"content": "a"}}], "error": {"message": "boom"}}')],
            StreamErrorEvent,
        ),
        ([(b"error", b"overloaded")], StreamErrorEvent),
    ],
)
def test_bad_events_raise(events: list[tuple[bytes, bytes]], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        StreamState().feed_events(events, 1)


def test_buffer_and_state_on_one_read() -> None:
    body = b"".join(
        b"data: " + json.dumps(o).encode() + b"\n\n"
        for o in (
            {"choices": [{"delta": {"role": "assistant", "content": ""}}]},
            {"choices": [{"delta": {"content": "a"}}]},
            {"choices": [{"delta": {"content": "b"}, "finish_reason": "stop"}]},
        )
    )
    st = StreamState()
    st.feed_events(SSEBuffer().feed(body + b"data: [DONE]\n\n"), 11)
    assert st.done and st.text == "ab" and st.first_chunk_ns == st.last_chunk_ns == 11


def _state(st: StreamState) -> tuple[object, ...]:
    return (
        st.first_chunk_ns,
        st.last_chunk_ns,
        st.chunk_gaps_ns,
        st.content_chunks,
        st.text,
        st.prompt_tokens,
        st.output_tokens,
        st.finish_reason,
        st.done,
        st.events,
    )


_PLAIN = b"".join(
    b"data: " + json.dumps(o).encode() + b"\n\n"
    for o in (
        {"choices": [{"delta": {"role": "assistant", "content": ""}}]},
        {"choices": [{"delta": {"content": "a"}}]},
        {"choices": [{"delta": {"content": "b\n"}, "finish_reason": "stop"}]},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    )
)


@pytest.mark.parametrize(
    "body",
    [
        _PLAIN + b"data: [DONE]\n\n",
        _PLAIN.replace(b"\n\n", b"\r\n\r\n") + b"data: [DONE]\r\n\r\n",  # CRLF: full decoder
        b": keep-alive\n\n" + _PLAIN + b"id: 7\ndata: [DONE]\n\n",  # comment, id line
        _PLAIN.replace(b"data: {", b'data: {"x": 1,\ndata: ', 1),  # multi-line data
        _PLAIN + b"\n\n\ndata: [DONE]\n\n",  # extra blank lines
        _PLAIN + b"data:[DONE]\n\n",  # no space after the colon
    ],
)
def test_feed_read_matches_the_full_decoder_at_every_split(body: bytes) -> None:
    """The plain-events fast path (feed_read) sees exactly what buffer.feed + feed_events see."""
    want = StreamState()
    ref = SSEBuffer()
    want.feed_events(ref.feed(body), 1)
    want.feed_events(ref.close(), 2)
    for cut in range(1, len(body)):
        st, buf = StreamState(), SSEBuffer()
        st.feed_read(buf, body[:cut], 1)
        st.feed_read(buf, body[cut:], 1)
        st.feed_events(buf.close(), 2)
        assert _state(st) == _state(want), cut


def test_feed_read_error_event_and_malformed_data() -> None:
    with pytest.raises(StreamErrorEvent):
        StreamState().feed_read(SSEBuffer(), _PLAIN + b"event: error\ndata: boom\n\n", 1)
    with pytest.raises(MalformedStream):
        StreamState().feed_read(SSEBuffer(), b"data: {not json\n\n", 1)
    st = StreamState()
    st.feed_read(SSEBuffer(), _PLAIN + b"data: [DONE]\n\nevent: error\ndata: late\n\n", 1)
    assert st.done and st.text == "ab\n" and st.events == 5


# Values of every JSON type, so each field is sometimes of the expected type and sometimes not.
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "a", "é", "stop"]),
    st.lists(st.sampled_from(["a", 1]), max_size=2),
    st.just({"message": "boom"}),
)


def _maybe(value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly the expected shape (the typed path), sometimes any JSON value (the lenient one)."""
    return st.integers(0, 5).flatmap(lambda k: _ANY if k == 0 else value)


_TEXT = _maybe(st.sampled_from(["", "x", "tok "]))
_DELTA = st.fixed_dictionaries(
    {},
    optional={
        "role": st.just("assistant"),
        "content": _TEXT,
        "reasoning_content": _TEXT,
        "reasoning": _TEXT,
    },
)
_CHOICE = st.fixed_dictionaries(
    {},
    optional={
        "delta": _maybe(_DELTA),
        "text": _TEXT,
        "finish_reason": _maybe(st.sampled_from(["stop", "length"])),
        "index": st.just(0),
    },
)
_USAGE = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": _maybe(st.integers(0, 9)),
        "completion_tokens": _maybe(st.integers(0, 9)),
    },
)
_CHUNK = st.fixed_dictionaries(
    {},
    optional={
        "choices": _maybe(st.lists(_maybe(_CHOICE), max_size=2)),
        "usage": _maybe(_USAGE),
        "error": st.one_of(st.none(), st.just(""), st.just({"message": "boom"})),
        "id": st.just("c1"),
    },
)


def _outcome(run: Callable[[StreamState], tuple[object, object]]) -> tuple[object, ...]:
    s = StreamState()
    try:
        text, finish = run(s)
    except (MalformedStream, StreamErrorEvent) as exc:
        return (type(exc).__name__, str(exc))
    return (text or None, finish, s.prompt_tokens, s.output_tokens)


@settings(max_examples=400, deadline=None)
@given(_maybe(_CHUNK))
def test_typed_decoding_agrees_with_the_lenient_dict_walk(obj: object) -> None:
    """msgspec's typed decode (the hot path) and `_loose` (the lenient dict walk for other
    shapes) read the same text, finish reason, usage and errors from any chunk-like JSON."""
    data = json.dumps(obj).encode()

    def typed(s: StreamState) -> tuple[object, object]:
        s.feed_datas([data], 1)
        return s.text, s.finish_reason

    assert _outcome(typed) == _outcome(lambda s: s._loose(data))


def _fed(run: Callable[[StreamState], None]) -> tuple[object, ...]:
    """The state a stream ends in, or the error it raised with the state reached by then."""
    s = StreamState()
    try:
        run(s)
    except (MalformedStream, StreamErrorEvent) as exc:
        return (type(exc).__name__, str(exc), *_state(s))
    return _state(s)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_maybe(_CHUNK), min_size=1, max_size=6),
    st.sampled_from([b"", b"data: [DONE]\n\n", b"data: [DONE]\n\ndata: {}\n\n"]),
)
def test_one_call_decoding_of_a_read_agrees_with_event_by_event(
    objs: list[object], end: bytes
) -> None:
    """feed_read decodes a read of plain events as one JSON array; feed_events decodes them
    one at a time: the same state, or the same error after the same events, for any mix of
    typed, lenient and error chunks, with or without `[DONE]` (and events after it)."""
    body = b"".join(b"data: " + json.dumps(o).encode() + b"\n\n" for o in objs) + end
    assert _fed(lambda s: s.feed_read(SSEBuffer(), body, 7)) == _fed(
        lambda s: s.feed_events(SSEBuffer().feed(body), 7)
    )


@pytest.mark.parametrize(
    "body",
    [
        # two cut-off events that together would make one valid object
        b'data: {"choices": [{"delta": {"content": "a"}}\n\ndata: {}]}\n\n',
        b'data: {"choices": [{}\n\ndata: {"delta": {}}]}\n\ndata: [DONE]\n\n',
        # an event that is two objects
        b'data: {"choices": []}, {"choices": []}\n\n',
    ],
)
def test_events_that_are_not_json_alone_are_malformed_in_the_one_call_path(body: bytes) -> None:
    with pytest.raises(MalformedStream):
        StreamState().feed_read(SSEBuffer(), body, 1)
