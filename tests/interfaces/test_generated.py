"""Per-method tests of the generated coroutines, built from the catalog.

For every method: verb, path, query and body on the wire; responses decode with
repeated elements as lists; the spec's examples decode like xmltodict would and its
payload examples go out as equivalent XML; bad arguments send nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx
import pytest
import xmltodict

from iovox_async import AsyncIovox, UndocumentedValueWarning, ValidationError
from iovox_async._catalog import METHODS
from iovox_async._spec import ElementSpec, Method, Param
from iovox_async._xml import decode_document, to_api_text
from iovox_async.interfaces import INTERFACE_ATTRIBUTES

from .test_spec import SPEC, snake_case

ALL = [m for methods in METHODS.values() for m in methods.values()]
IDS = [f"{m.interface}.{m.name}" for m in ALL]
EXAMPLES = {(i.method.interface, i.method.name): i for i in SPEC}


def sample_scalar(param_type: str, values: tuple[str, ...], name: str, index: int = 0) -> Any:
    if values:
        return values[index % len(values)]
    if param_type == "integer":
        return 101 + index
    if param_type == "boolean":
        return index % 2 == 0
    if param_type == "datetime":
        return dt.datetime(2026, 11, 1 + index, 8, 30, 5)
    if param_type == "date":
        return dt.date(2026, 11, 1 + index)
    return f"{name}-{index} é&<x>"


def sample_param(param: Param) -> Any:
    if param.is_list:
        count = 2 if not param.values or len(param.values) > 1 else 1
        return [sample_scalar(param.type, param.values, param.name, i) for i in range(count)]
    value = sample_scalar(param.type, param.values, param.name)
    if param.type == "integer" and param.maximum is not None:
        value = min(value, param.maximum)
    return value


def expected_pairs(param: Param, value: Any) -> list[tuple[str, str]]:
    if param.is_list:
        texts = [to_api_text(v) for v in value]
        if param.separator == "[]":
            return [(f"{param.name}[]", t) for t in texts]
        return [(param.name, (param.separator or ",").join(texts))]
    return [(param.name, to_api_text(value))]


def sample_tree(elements: tuple[ElementSpec, ...], depth: int = 0) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for element in elements:
        if element.children and depth < 8:
            value: Any = sample_tree(element.children, depth + 1)
            if not value:
                continue
        else:
            value = to_api_text(
                sample_scalar(element.type, element.values, element.name.lstrip("@"))
            )
        tree[element.name] = [value, value] if element.repeated else value
    return tree


def repeated_in(elements: tuple[ElementSpec, ...]) -> Callable[[Any, str, Any], bool]:
    """An xmltodict force_list that knows paths (payload trees may reuse a name)."""
    paths: set[tuple[str, ...]] = set()

    def collect(items: tuple[ElementSpec, ...], prefix: tuple[str, ...]) -> None:
        for element in items:
            path = (*prefix, element.name)
            if element.repeated:
                paths.add(path)
            collect(element.children, path)

    collect(elements, ())
    return lambda path, key, value: (*(p[0] for p in path[1:]), key) in paths


def tree_to_xml(name: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(tree_to_xml(name, v) for v in value)
    if isinstance(value, dict):
        attrs = "".join(f" {k[1:]}={quoteattr(v)}" for k, v in value.items() if k.startswith("@"))
        inner = "".join(tree_to_xml(k, v) for k, v in value.items() if not k.startswith("@"))
        return f"<{name}{attrs}>{inner}</{name}>"
    return f"<{name}>{escape(value)}</{name}>"


def one_of_each(elements: tuple[ElementSpec, ...]) -> dict[str, Any]:
    """A response tree holding exactly one occurrence of every element."""
    tree = sample_tree(elements)

    def single(value: Any) -> Any:
        if isinstance(value, list):
            return single(value[0])
        if isinstance(value, dict):
            return {k: single(v) for k, v in value.items()}
        return value

    return single(tree)  # type: ignore[no-any-return]


class Recorder:
    def __init__(self, method: Method, body: bytes | None = None, content_type: str = "text/xml"):
        self.method = method
        self.requests: list[httpx.Request] = []
        self.body = body
        self.content_type = content_type

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        kind = self.method.response_kind
        if self.body is not None:
            return httpx.Response(
                200, content=self.body, headers={"content-type": self.content_type}
            )
        if kind == "binary":
            return httpx.Response(
                200, content=b"ID3\x04" + bytes(500), headers={"content-type": "audio/mpeg"}
            )
        if kind == "empty":
            return httpx.Response(201 if self.method.http == "POST" else 204)
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + tree_to_xml(
            "response", one_of_each(self.method.response)
        )
        return httpx.Response(200, content=body.encode(), headers={"content-type": "text/xml"})


def client_for(handler: Recorder) -> AsyncIovox:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AsyncIovox(
        "user", "key", base_url="https://api.test:444", http_client=http, max_retries=0
    )
    return client


def coroutine(client: AsyncIovox, method: Method) -> Callable[..., Any]:
    interface = getattr(client, INTERFACE_ATTRIBUTES[method.interface])
    return getattr(interface, snake_case(method.name))  # type: ignore[no-any-return]


def kwargs_for(method: Method) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(coroutine kwargs, query values by API name, payload by API name)."""
    query = {p.name: sample_param(p) for p in method.query}
    payload = sample_tree(method.payload or ())
    for name in method.payload_one_of[1:]:  # exactly one of them may be sent
        payload.pop(name, None)
    kwargs = {}
    names = {p.name for p in method.query}
    for p in method.query:
        kwargs[_arg(p.name)] = query[p.name]
    for name, value in payload.items():
        kwargs[_arg(name) + ("_body" if name in names else "")] = value
    return kwargs, query, payload


def _arg(name: str) -> str:
    import keyword
    import re

    text = snake_case(re.sub(r"[^A-Za-z0-9_]", "_", name.lstrip("@")))
    return text + "_" if keyword.iskeyword(text) else text


def test_every_method_is_reachable() -> None:
    client = AsyncIovox("u", "k", base_url="https://x.test")
    assert len(ALL) == 85
    for method in ALL:
        assert callable(coroutine(client, method)), method.name


@pytest.mark.parametrize("method", ALL, ids=IDS)
async def test_wire_format(method: Method) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, query, payload = kwargs_for(method)
    result = await coroutine(client, method)(**kwargs)
    [request] = handler.requests
    assert request.method == method.http
    assert request.url.path == f"/{method.interface}"
    sent = request.url.params.multi_items()
    assert sent[:2] == [("v", "3"), ("method", method.name)]
    expected: list[tuple[str, str]] = []
    for param in method.query:
        expected += expected_pairs(param, query[param.name])
    assert sent[2:] == expected
    if payload:
        parsed = xmltodict.parse(request.content, force_list=repeated_in(method.payload or ()))
        assert parsed == {"request": payload}
    else:
        assert request.content == b""
    if method.response_kind == "binary":
        assert isinstance(result, bytes)
    elif method.response_kind == "empty":
        assert result == {}
    else:
        assert isinstance(result, dict)


@pytest.mark.parametrize(
    "method", [m for m in ALL if m.repeated], ids=lambda m: f"{m.interface}.{m.name}"
)
async def test_a_lone_repeated_element_is_a_list(method: Method) -> None:
    client = client_for(Recorder(method))
    kwargs = {_arg(p.name): sample_param(p) for p in method.query if p.required}
    kwargs.update(
        {_arg(e.name): sample_tree((e,))[e.name] for e in method.payload or () if e.required}
    )
    result = await coroutine(client, method)(**kwargs)
    seen: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in method.repeated:
                    assert isinstance(item, list), f"{key} is not a list"
                    seen.add(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(result)
    assert seen == set(method.repeated)


EXAMPLE_CASES = [(item.method, example) for item in SPEC for example in item.response_examples]


@pytest.mark.parametrize(
    "method,example", EXAMPLE_CASES, ids=lambda v: getattr(v, "name", "example")
)
async def test_response_examples_decode(method: Method, example: str) -> None:
    body = example.strip().encode()
    reference = xmltodict.parse(body, force_list=method.repeated)
    root = next(iter(reference))
    assert decode_document(body, method.repeated) == (reference[root] or {})
    client = client_for(Recorder(method, body))
    kwargs = {_arg(p.name): sample_param(p) for p in method.query if p.required}
    kwargs.update(
        {_arg(e.name): sample_tree((e,))[e.name] for e in method.payload or () if e.required}
    )
    result = await coroutine(client, method)(**kwargs)
    assert isinstance(result, dict) and result


PAYLOAD_CASES = [(item.method, example) for item in SPEC for example in item.payload_examples]


@pytest.mark.parametrize(
    "method,example", PAYLOAD_CASES, ids=lambda v: getattr(v, "name", "payload")
)
async def test_payload_examples_encode_to_equivalent_xml(method: Method, example: str) -> None:
    repeated = repeated_in(method.payload or ())
    parsed = xmltodict.parse(example.strip(), force_list=repeated)["request"] or {}

    def empty_elements_as_dicts(value: Any) -> Any:
        # None is "leave out"; an empty element is written as {}.
        if value is None:
            return {}
        if isinstance(value, dict):
            return {k: empty_elements_as_dicts(v) for k, v in value.items()}
        if isinstance(value, list):
            return [empty_elements_as_dicts(v) for v in value]
        return value

    handler = Recorder(method)
    client = client_for(handler)
    names = {p.name for p in method.query}
    kwargs = {_arg(p.name): sample_param(p) for p in method.query if p.required}
    for name, value in parsed.items():
        kwargs[_arg(name) + ("_body" if name in names else "")] = empty_elements_as_dicts(value)
    await coroutine(client, method)(**kwargs)
    sent = xmltodict.parse(handler.requests[0].content, force_list=repeated)["request"]
    assert sent == parsed


REQUIRED_CASES = [(m, p) for m in ALL for p in m.query if p.required]


@pytest.mark.parametrize("method,param", REQUIRED_CASES, ids=lambda v: getattr(v, "name", ""))
async def test_missing_required_argument_sends_nothing(method: Method, param: Param) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    del kwargs[_arg(param.name)]
    with pytest.raises((ValidationError, TypeError)):
        await coroutine(client, method)(**kwargs)
    assert handler.requests == []


VALUE_CASES = [(m, p) for m in ALL for p in m.query if p.values and not p.advisory_values]
ADVISORY_CASES = [(m, p) for m in ALL for p in m.query if p.values and p.advisory_values]


@pytest.mark.parametrize("method,param", VALUE_CASES, ids=lambda v: getattr(v, "name", ""))
async def test_value_outside_the_allowed_set_sends_nothing(method: Method, param: Param) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    kwargs[_arg(param.name)] = ["NOT-ALLOWED"] if param.is_list else "NOT-ALLOWED"
    with pytest.raises(ValidationError, match=param.name):
        await coroutine(client, method)(**kwargs)
    assert handler.requests == []


@pytest.mark.parametrize("method,param", ADVISORY_CASES, ids=lambda v: getattr(v, "name", ""))
async def test_value_outside_an_advisory_list_is_sent_with_a_warning(
    method: Method, param: Param
) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    kwargs[_arg(param.name)] = ["NOT-LISTED"]
    with pytest.warns(UndocumentedValueWarning, match=param.name):
        await coroutine(client, method)(**kwargs)
    assert "NOT-LISTED" in str(handler.requests[0].url)


LIMIT_CASES = [(m, p) for m in ALL for p in m.query if p.name == "limit" and p.maximum]


@pytest.mark.parametrize("method,param", LIMIT_CASES, ids=lambda v: getattr(v, "name", ""))
async def test_limit_out_of_range_sends_nothing(method: Method, param: Param) -> None:
    assert param.maximum is not None
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    for bad in (0, param.maximum + 1, "ten"):
        kwargs["limit"] = bad
        with pytest.raises(ValidationError, match="limit"):
            await coroutine(client, method)(**kwargs)
    assert handler.requests == []


REQUIRED_PAYLOAD = [(m, e) for m in ALL for e in m.payload or () if e.required]


@pytest.mark.parametrize("method,element", REQUIRED_PAYLOAD, ids=lambda v: getattr(v, "name", ""))
async def test_missing_required_payload_element_sends_nothing(
    method: Method, element: ElementSpec
) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    kwargs.pop(_arg(element.name), None)
    kwargs.pop(_arg(element.name) + "_body", None)
    with pytest.raises((ValidationError, TypeError)):
        await coroutine(client, method)(**kwargs)
    assert handler.requests == []


def payload_paths(
    elements: tuple[ElementSpec, ...], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], ElementSpec]]:
    found = []
    for element in elements:
        path = (*prefix, element.name)
        found.append((path, element))
        found += payload_paths(element.children, path)
    return found


def parent_in_sample(kwargs: dict[str, Any], method: Method, path: tuple[str, ...]) -> Any:
    """The dict holding ``path``'s last element in the sample kwargs, or None."""
    names = {p.name for p in method.query}
    node: Any = kwargs.get(_arg(path[0]) + ("_body" if path[0] in names else ""))
    for name in path[1:-1]:
        node = node[0] if isinstance(node, list) else node
        node = node.get(name) if isinstance(node, dict) else None
    node = node[0] if isinstance(node, list) else node
    return node if isinstance(node, dict) and path[-1] in node else None


NESTED_REQUIRED = [
    (m, path)
    for m in ALL
    for path, element in payload_paths(m.payload or ())
    if len(path) > 1 and element.required and parent_in_sample(kwargs_for(m)[0], m, path)
]
PAYLOAD_VALUES = [
    (m, path)
    for m in ALL
    for path, element in payload_paths(m.payload or ())
    if element.values and not element.children and len(path) > 1
    and parent_in_sample(kwargs_for(m)[0], m, path)
]  # fmt: skip


@pytest.mark.parametrize(
    "method,path", NESTED_REQUIRED, ids=lambda v: "/".join(v) if isinstance(v, tuple) else v.name
)
async def test_missing_nested_payload_element_sends_nothing(
    method: Method, path: tuple[str, ...]
) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    del parent_in_sample(kwargs, method, path)[path[-1]]
    with pytest.raises(ValidationError, match=path[-1].lstrip("@")):
        await coroutine(client, method)(**kwargs)
    assert handler.requests == []


@pytest.mark.parametrize(
    "method,path", PAYLOAD_VALUES, ids=lambda v: "/".join(v) if isinstance(v, tuple) else v.name
)
async def test_payload_value_outside_the_allowed_set_sends_nothing(
    method: Method, path: tuple[str, ...]
) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, _ = kwargs_for(method)
    parent_in_sample(kwargs, method, path)[path[-1]] = "NOT-ALLOWED"
    with pytest.raises(ValidationError, match=path[-1].lstrip("@")):
        await coroutine(client, method)(**kwargs)
    assert handler.requests == []


JSON_CASES = [
    m for m in ALL if (p := m.param("output")) and "JSON" in p.values and "result" in m.repeated
]


@pytest.mark.parametrize("method", JSON_CASES, ids=lambda m: f"{m.interface}.{m.name}")
async def test_json_output_keeps_repeated_elements_as_lists(method: Method) -> None:
    body = json.dumps(
        {"response": {"current_page": "1", "results": {"result": {"x": "1"}}}}
    ).encode()
    client = client_for(Recorder(method, body, "application/json"))
    kwargs = {_arg(p.name): sample_param(p) for p in method.query if p.required}
    result = await coroutine(client, method)(output="JSON", **kwargs)
    rows = result["results"]["result"]
    assert isinstance(rows, list) and len(rows) == 1 and rows[0]["x"] == "1"


async def test_delete_nodes_joins_ids() -> None:
    handler = Recorder(METHODS["Nodes"]["deleteNodes"])
    await client_for(handler).nodes.delete_nodes(node_ids=[101, 102])
    (request,) = handler.requests
    assert request.method == "DELETE"
    assert request.url.params["node_ids"] == "101,102"
    assert b"node_ids=101%2C102" in request.url.query


async def test_dates_are_real_and_ranges_run_forwards() -> None:
    handler = Recorder(METHODS["Calls"]["getCallData"])
    calls = client_for(handler).calls
    for bad in ("2026-13-01", "2026-02-30", "2026-10-01 25:00:00", "yesterday", "01/10/2026"):
        with pytest.raises(ValidationError, match="real date"):
            await calls.get_call_data(sdt=bad)
    with pytest.raises(ValidationError, match="sdt '2026-10-16' is after edt '2026-10-01'"):
        await calls.get_call_data(sdt="2026-10-16", edt="2026-10-01")
    with pytest.raises(ValidationError, match="after edt"):
        await calls.get_call_data(sdt=dt.datetime(2026, 10, 2), edt=dt.date(2026, 10, 1))
    assert handler.requests == []
    await calls.get_call_data(sdt="2026-10-01", edt="2026-10-01 23:59:59")
    await calls.get_call_data(sdt=dt.date(2026, 2, 28), edt="2026-02-28")
    assert len(handler.requests) == 2


async def test_binary_methods_stream_to_a_file(tmp_path: Any) -> None:
    method = METHODS["Calls"]["getCallRecording"]
    client = client_for(Recorder(method))
    kwargs = {_arg(p.name): sample_param(p) for p in method.query if p.required}
    target = tmp_path / "rec.mp3"
    written = await client.calls.get_call_recording_to_file(target, **kwargs)
    assert written == target.stat().st_size == 504
    assert [p.name for p in tmp_path.iterdir()] == ["rec.mp3"]


@pytest.mark.parametrize("method", [m for m in ALL if m.payload_one_of], ids=lambda m: m.name)
async def test_exactly_one_of_the_alternative_payloads(method: Method) -> None:
    handler = Recorder(method)
    client = client_for(handler)
    kwargs, _, payload = kwargs_for(method)
    function = coroutine(client, method)
    first, *others = method.payload_one_of
    for name in others:
        both = {**kwargs, _arg(name): payload[first]}
        with pytest.raises(ValidationError, match="exactly one of"):
            await function(**both)
    with pytest.raises(ValidationError, match="exactly one of"):
        await function(**{k: v for k, v in kwargs.items() if k != _arg(first)})
    assert handler.requests == []
    await function(**kwargs)
    assert len(handler.requests) == 1


@pytest.mark.parametrize("method", ALL, ids=IDS)
def test_signature_and_docstring(method: Method) -> None:
    import inspect

    client = AsyncIovox("user", "key", base_url="https://api.test:444")
    function = coroutine(client, method)
    parameters = list(inspect.signature(function).parameters.values())
    assert parameters and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    doc = " ".join((inspect.getdoc(function) or "").split())
    assert " ".join(method.summary.split())[:60] in doc
    for parameter in parameters:
        assert f"{parameter.name}:" in doc
    interface_doc = " ".join((inspect.getdoc(type(function.__self__)) or "").split())
    for error in method.errors:
        listed = f"{error.status} {' '.join(error.message.split())}"
        assert listed in doc or listed in interface_doc
    item = EXAMPLES[(method.interface, method.name)]
    if item.doc_url:
        assert item.doc_url in doc
    assert "spec/" not in doc
    documented = re.findall(r"^ {4}(\w+): ", inspect.getdoc(function) or "", re.M)
    assert documented == [parameter.name for parameter in parameters]


def as_api_json(example: str) -> bytes:
    """A response example as ``output=JSON`` sends it: one result an object, not a list;
    an empty element ``""``; attributes and text as xmltodict names them."""

    def blank(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, dict):
            return {key: blank(item) for key, item in value.items()}
        if isinstance(value, list):
            return [blank(item) for item in value]
        return value

    return json.dumps(blank(xmltodict.parse(example.strip()))).encode()


@pytest.mark.parametrize(
    "method,example", EXAMPLE_CASES, ids=lambda v: getattr(v, "name", "example")
)
async def test_response_examples_decode_alike_from_json_and_xml(
    method: Method, example: str
) -> None:
    kwargs = {_arg(p.name): sample_param(p) for p in method.query if p.required}
    kwargs.update(
        {_arg(e.name): sample_tree((e,))[e.name] for e in method.payload or () if e.required}
    )
    from_xml = await coroutine(client_for(Recorder(method, example.strip().encode())), method)(
        **kwargs
    )
    json_client = client_for(Recorder(method, as_api_json(example), "application/json"))
    from_json = await coroutine(json_client, method)(**kwargs)
    # A flow's verbatim XML (``callFlow_xml``) can only be cut from an XML body; these
    # methods take no ``output``, so a JSON answer of theirs is hypothetical anyway.
    verbatim = {key for key in from_xml if key.endswith("_xml")}
    assert verbatim == {f"{e.name}_xml" for e in method.response if e.type == "xml"} & {
        f"{name}_xml" for name in from_xml
    }
    assert from_json == {key: value for key, value in from_xml.items() if key not in verbatim}
