"""The three stream styles real servers send, parsed from bytes."""

from __future__ import annotations

import json

import pytest
from unitcost.bench.sse import MalformedStream, SSEDecoder, StreamErrorEvent, StreamState


def ev(obj: object) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def chunk(delta: dict[str, object] | None, finish: str | None = None, **kw: object) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return ev({"choices": choices, **kw})


USAGE = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
ROLE = chunk({"role": "assistant", "content": ""})
STYLES = {
    # llama-server / vLLM: usage in a final `choices: []` chunk, then [DONE]
    "final_usage": ROLE
    + chunk({"content": "a"})
    + chunk({"content": "b"})
    + chunk({"content": "c"})
    + chunk({}, "stop")
    + chunk(None, usage=USAGE)
    + b"data: [DONE]\n\n",
    # transformers serve: usage on the finish chunk, no [DONE]
    "finish_usage": ROLE
    + chunk({"content": "a"})
    + chunk({"content": "b"})
    + chunk({"content": "c"}, "length", usage=USAGE),
    # llama-cpp-python: no usage at all
    "no_usage": ROLE
    + chunk({"content": "a"})
    + chunk({"content": "b"})
    + chunk({"content": "c"})
    + chunk({}, "stop")
    + b"data: [DONE]\n\n",
}


def run(data: bytes) -> StreamState:
    st, dec = StreamState(), SSEDecoder()
    t = 0
    for line in data.splitlines(keepends=True):
        out = dec.line(line)
        if out is not None:
            t += 10
            st.feed(out[1], t)
    tail = dec.flush()
    if tail is not None:
        st.feed(tail[1], t + 10)
    return st


@pytest.mark.parametrize("style", list(STYLES))
def test_three_styles(style: str) -> None:
    st = run(STYLES[style])
    assert st.text == "abc" and st.content_chunks == 3
    assert st.first_chunk_ns == 20  # the role-only chunk at t=10 is not content
    assert st.last_chunk_ns == 40 and st.chunk_gaps_ns == [10, 10]
    assert st.complete
    if style == "no_usage":
        assert st.output_tokens is None and st.done
    else:
        assert (st.prompt_tokens, st.output_tokens) == (9, 3)
    assert st.done == (style != "finish_usage")


def test_completions_text_and_reasoning() -> None:
    st = StreamState()
    st.feed(json.dumps({"choices": [{"text": "", "finish_reason": None}]}).encode(), 1)
    st.feed(json.dumps({"choices": [{"delta": {"reasoning_content": "hm"}}]}).encode(), 2)
    st.feed(json.dumps({"choices": [{"text": "x", "finish_reason": "length"}]}).encode(), 3)
    assert st.first_chunk_ns == 2 and st.content_chunks == 2 and st.finish_reason == "length"


def test_truncated_stream_is_not_complete() -> None:
    st = run(ROLE + chunk({"content": "a"}))
    assert not st.complete and st.content_chunks == 1


def test_multiline_data_and_comments() -> None:
    dec = SSEDecoder()
    assert dec.line(b": keep-alive\n") is None
    assert dec.line(b'data: {"choices":\n') is None
    assert dec.line(b"data: []}\n") is None
    assert dec.line(b"\n") == (b"", b'{"choices":\n[]}')


def test_malformed_and_error_events() -> None:
    with pytest.raises(MalformedStream):
        StreamState().feed(b"{not json", 1)
    with pytest.raises(MalformedStream):
        SSEDecoder().line(b"garbage line\n")
    with pytest.raises(StreamErrorEvent, match="overloaded"):
        StreamState().feed(json.dumps({"error": {"message": "overloaded"}}).encode(), 1)


def test_buffer_splits_reads_anywhere() -> None:
    from unitcost.bench.sse import SSEBuffer

    data = STYLES["final_usage"].replace(b"\n", b"\r\n")
    for cut in (1, 7, 33, 64):
        buf, events = SSEBuffer(), []
        for i in range(0, len(data), cut):
            events += buf.feed(data[i : i + cut])
        events += buf.close()
        st = StreamState()
        for n, (_, payload) in enumerate(events):
            st.feed(payload, n)
        assert st.text == "abc" and st.done and st.output_tokens == 3, cut


def test_buffer_last_event_without_blank_line() -> None:
    from unitcost.bench.sse import SSEBuffer

    buf = SSEBuffer()
    assert buf.feed(b'data: {"choices": []}\n\ndata: [DO') == [(b"", b'{"choices": []}')]
    assert buf.feed(b"NE]") == []
    assert buf.close() == [(b"", b"[DONE]")]
