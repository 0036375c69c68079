"""XML encoding and decoding rules."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import xmltodict

from iovox_async import RawXML, ResponseDecodeError
from iovox_async._convert import Shape
from iovox_async._spec import ElementSpec
from iovox_async._xml import decode_document, encode_payload, parse_error_items


def test_payload_encoding_rules() -> None:
    body = encode_payload(
        {
            "nodes": {"node": [{"node_id": "a&b", "active": True}, {"node_id": "<c>"}]},
            "skip": None,
            "when": dt.datetime(2026, 11, 1, 9, 5, 0),
            "day": dt.date(2026, 1, 2),
            "off": False,
            "tag": {"@id": 7, "#text": "x"},
        }
    )
    text = body.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<request>')
    root = ET.fromstring(body)
    assert root.tag == "request"
    nodes = root.findall("nodes/node")
    assert [n.findtext("node_id") for n in nodes] == ["a&b", "<c>"]
    assert nodes[0].findtext("active") == "TRUE"
    assert root.find("skip") is None
    assert root.findtext("when") == "2026-11-01 09:05:00"
    assert root.findtext("day") == "2026-01-02"
    assert root.findtext("off") == "FALSE"
    tag = root.find("tag")
    assert tag is not None and tag.get("id") == "7" and tag.text == "x"


def test_utf8_text_survives() -> None:
    body = encode_payload({"name": "Café Zoë ☎"})
    assert ET.fromstring(body).findtext("name") == "Café Zoë ☎"


def test_raw_xml_keeps_document_order() -> None:
    flow = RawXML('<callFlow name="f"><call id="1"/><sendSms id="2"/><call id="3"/></callFlow>')
    root = ET.fromstring(encode_payload({"callFlow": flow}))
    element = root.find("callFlow")
    assert element is not None and element.get("name") == "f"
    assert [(c.tag, c.get("id")) for c in element] == [
        ("call", "1"),
        ("sendSms", "2"),
        ("call", "3"),
    ]


def test_raw_xml_must_be_well_formed() -> None:
    with pytest.raises(ResponseDecodeError):
        encode_payload({"callFlow": RawXML("<callFlow><a></callFlow>")})


BODIES = [
    b'<?xml version="1.0"?>\n<response><a>1</a><b/><c x="1">t</c><d><e>1</e><e>2</e><e>3</e></d></response>',
    b"<response><results><result><id>1</id><tags><tag>a</tag></tags></result></results></response>",
    b"<response>  <m>t<b>q</b>u</m>  <n>  </n></response>",
    "<response><name>Zoë</name></response>".encode(),
    # Text in pieces: entities, CDATA, a comment, and a run longer than expat's buffer.
    b"<response><a>x &amp; y<![CDATA[ <z> ]]>w<!-- c -->v</a><b>&#233;&lt;</b></response>",
    b"<response><long>" + b"ab\n" * 5000 + b"</long><c>1</c></response>",
    # Namespaces are not processed (as xmltodict does by default): names stay as written.
    b'<response xmlns="urn:a" xmlns:p="urn:p"><p:a p:x="1">t</p:a><b/></response>',
]


@pytest.mark.parametrize("body", BODIES)
def test_decoder_matches_xmltodict(body: bytes) -> None:
    force = frozenset({"result", "tag"})
    expected = xmltodict.parse(body, force_list=force)["response"]
    assert decode_document(body, force) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"<response/>",
        b"<response>txt</response>",
        b'<response a="1"/>',
        b"<a><b/><b>1</b><b><c>2</c></b></a>",
        b"<a>\n  <b>1</b>\n  <b>2</b>\n</a>",
    ],
)
def test_decoder_matches_xmltodict_with_root(body: bytes) -> None:
    assert decode_document(body, frozenset(), strip_root=False) == xmltodict.parse(body)


def test_lone_repeated_element_is_a_list() -> None:
    body = b"<response><results><result><id>1</id></result></results></response>"
    data = decode_document(body, frozenset({"result"}))
    assert data["results"]["result"] == [{"id": "1"}]


def fill_missing_lists(data: dict[str, Any], spec: tuple[ElementSpec, ...]) -> dict[str, Any]:
    return Shape("Calls.getCallData", spec, frozenset({"result", "category"})).finish(data, False)


def test_fill_missing_lists_only_where_it_should() -> None:
    category = ElementSpec("category", repeated=True, children=(ElementSpec("label"),))
    result = ElementSpec(
        "result",
        repeated=True,
        children=(ElementSpec("id"), ElementSpec("categories", children=(category,))),
    )
    spec = (ElementSpec("total_results"), ElementSpec("results", children=(result,)))
    assert fill_missing_lists({"total_results": "0"}, spec)["results"] == {"result": []}
    assert fill_missing_lists({"results": None}, spec)["results"] == {"result": []}
    rows = fill_missing_lists(
        {"results": {"result": [{"id": "1", "categories": None}, {"id": "2"}]}}, spec
    )
    assert rows["results"]["result"][0]["categories"] == {"category": []}
    assert "categories" not in rows["results"]["result"][1]


def test_error_items_from_wrapped_bare_and_nested_bodies() -> None:
    wrapped = b'<errors><error status="400">A</error><error status="400">B of 2</error></errors>'
    assert [(i.status, i.message) for i in parse_error_items(wrapped) or []] == [
        (400, "A"),
        (400, "B of 2"),
    ]
    bare = b'<?xml version="1.0" encoding="utf-8"?>\n\n  <error status="401">HTTP 401: Unauthorized</error>'
    assert [i.message for i in parse_error_items(bare) or []] == ["HTTP 401: Unauthorized"]
    nested = (
        b'<response><errors><error status="500">Internal Server Error</error></errors></response>'
    )
    assert [i.status for i in parse_error_items(nested) or []] == [500]
    assert parse_error_items(b"") is None
    assert parse_error_items(b"<html><body>Bad gateway") is None


def test_doctype_is_refused() -> None:
    with pytest.raises(ResponseDecodeError):
        decode_document(b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><response/>', frozenset())


def test_invalid_utf8_is_a_decode_error() -> None:
    with pytest.raises(ResponseDecodeError):
        decode_document(b"<response><a>\xff\xfe</a></response>", frozenset())


async def test_json_is_recognised_whatever_the_content_type() -> None:
    from iovox_async._decode import decode_body

    body = b'{"response": {"results": {"result": {"id": "1"}}}}'
    for content_type in ("application/json", "text/xml", "text/html; charset=utf-8", None):
        decoded = await decode_body(body, content_type, shape=Shape("", (), frozenset({"result"})))
        assert decoded == {"results": {"result": [{"id": "1"}]}}


async def test_json_decodes_like_the_same_xml() -> None:
    from iovox_async._decode import decode_body

    names = frozenset({"result", "phone"})
    as_json = (
        b'{"response": {"results": {"result": {"id": "1", "detail": "",'
        b' "phones": {"phone": ["", "44"]}, "tags": {"tag": ["a", ""]}}}}}'
    )
    as_xml = (
        b"<response><results><result><id>1</id><detail/><phones><phone/><phone>44</phone>"
        b"</phones><tags><tag>a</tag><tag></tag></tags></result></results></response>"
    )
    decoded_json = await decode_body(as_json, "application/json", shape=Shape("", (), names))
    decoded_xml = await decode_body(as_xml, "text/xml", shape=Shape("", (), names))
    assert (
        decoded_json
        == decoded_xml
        == {
            "results": {
                "result": [
                    {
                        "id": "1",
                        "detail": None,
                        "phones": {"phone": [None, "44"]},
                        "tags": {"tag": ["a", None]},
                    }
                ]
            }
        }
    )
