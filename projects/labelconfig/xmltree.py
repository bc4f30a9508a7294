"""Parse untrusted config XML into a small node tree that remembers line numbers.

ElementTree drops line numbers, and users need them to find their mistakes, so this builds its
own tree from SAX events. defusedxml's expat reader refuses DTDs, entity declarations and
external references, which rules out entity-expansion bombs and local file disclosure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from xml.sax import SAXException, SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, InputSource, Locator

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import create_parser

from .issues import ConfigError, ConfigIssue

# Real configs are a few KiB with a few hundred elements; the limits only stop abuse.
MAX_CONFIG_CHARS = 500_000
MAX_DEPTH = 100
MAX_ELEMENTS = 10_000


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int | None
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def iter(self) -> list[Node]:
        """This node and all its descendants, in document order."""
        found: list[Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(node.children))
        return found


class _LimitExceededError(Exception):
    def __init__(self, issue: ConfigIssue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class _TreeBuilder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: Node | None = None
        self.stack: list[Node] = []
        self.count = 0
        self.locator: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def current_line(self) -> int | None:
        if self.locator is None:
            return None
        line = self.locator.getLineNumber()
        return line if isinstance(line, int) and line > 0 else None

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        line = self.current_line()
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _LimitExceededError(
                ConfigIssue(f"config has more than {MAX_ELEMENTS} elements", name, None, line)
            )
        if len(self.stack) >= MAX_DEPTH:
            raise _LimitExceededError(
                ConfigIssue(f"config nests deeper than {MAX_DEPTH} levels", name, None, line)
            )
        node = Node(tag=name, attrs=dict(attrs.items()), line=line)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name: str) -> None:
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text += content


def parse_xml(xml: str) -> Node:
    """Return the root node, or raise ConfigError for anything that is not safe, well-formed XML."""
    if not isinstance(xml, str):
        raise ConfigError([ConfigIssue("config must be a string")])
    if not xml.strip():
        raise ConfigError([ConfigIssue("config is empty")])
    if len(xml) > MAX_CONFIG_CHARS:
        raise ConfigError([ConfigIssue(f"config is longer than {MAX_CONFIG_CHARS} characters")])
    try:
        data = xml.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError([ConfigIssue(f"config is not valid Unicode: {exc.reason}")]) from None

    builder = _TreeBuilder()
    parser = create_parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(builder)
    source = InputSource()
    source.setByteStream(BytesIO(data))
    # The string was already decoded by the caller, so an XML declaration naming another
    # encoding must not make expat reinterpret the bytes.
    source.setEncoding("utf-8")
    try:
        parser.parse(source)
    except _LimitExceededError as exc:
        raise ConfigError([exc.issue]) from None
    except SAXParseException as exc:
        line = exc.getLineNumber()
        message = f"malformed XML: {exc.getMessage()}"
        raise ConfigError(
            [ConfigIssue(message, line=line if isinstance(line, int) and line > 0 else None)]
        ) from None
    except DTDForbidden:
        raise ConfigError(
            [ConfigIssue("DOCTYPE declarations are not allowed", line=builder.current_line())]
        ) from None
    except EntitiesForbidden:
        raise ConfigError(
            [ConfigIssue("entity declarations are not allowed", line=builder.current_line())]
        ) from None
    except DefusedXmlException:
        raise ConfigError(
            [ConfigIssue("external references are not allowed", line=builder.current_line())]
        ) from None
    except (SAXException, ValueError) as exc:
        raise ConfigError([ConfigIssue(f"malformed XML: {exc}")]) from None
    if builder.root is None:
        raise ConfigError([ConfigIssue("config has no root element")])
    return builder.root
