"""Small helpers shared by the demo generators to speak Label Studio's formats."""

import hashlib
import random
import string
import xml.etree.ElementTree as ET

_ID_ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 10


def random_id(rng: random.Random) -> str:
    """A result id shaped like Label Studio's (10 alphanumerics), drawn from `rng`."""
    return "".join(rng.choices(_ID_ALPHABET, k=ID_LENGTH))


def stable_id(*parts: object) -> str:
    """A result id derived from `parts`, for builders that take no rng but must stay repeatable."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:ID_LENGTH])


def label_elements(parent: ET.Element, labels: dict[str, tuple[str, str]]) -> None:
    """Append one `<Label value background hotkey/>` per entry of {value: (colour, hotkey)}."""
    for value, (background, hotkey) in labels.items():
        ET.SubElement(parent, "Label", value=value, background=background, hotkey=hotkey)


def config_xml(root: ET.Element) -> str:
    # Built with ElementTree rather than string templates so values are always escaped
    # and the config is well-formed by construction.
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode")
