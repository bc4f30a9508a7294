"""Label Studio compatible labelling-config language: parse the XML, describe it, check results.

Pure Python on purpose (no Django), so the parser can be used and tested anywhere.
"""

from .issues import ConfigError, ConfigIssue, ResultError, ResultIssue
from .parse import parse_config
from .schema import ControlTag, LabelConfig, LabelDef, ObjectTag
from .tags import TAGS, Kind, TagSpec

__all__ = [
    "TAGS",
    "ConfigError",
    "ConfigIssue",
    "ControlTag",
    "Kind",
    "LabelConfig",
    "LabelDef",
    "ObjectTag",
    "ResultError",
    "ResultIssue",
    "TagSpec",
    "parse_config",
]
