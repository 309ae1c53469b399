"""A course's YAML file, read once, with the line of every key and list item kept.

    doc = read(path, where)      ConfigError (naming the file, and the line) when it is not YAML
    doc.data                     what yaml.safe_load would return
    doc.line("points", "test_x") the line (1-based) of that key or item, or of the nearest one above it

Error messages name a course file's line, so that an author finds the mistake at once.
"""
from dataclasses import dataclass, field

import yaml


class ConfigError(Exception):
    """A course's configuration is wrong; the message says where and how."""


@dataclass
class Document:
    where: str                                  # the file, as messages name it
    data: object
    lines: dict = field(default_factory=dict)   # (key or index, ...) -> line

    def line(self, *path):
        """The line of the key (or item) at `path`, or of the nearest enclosing one; None if unknown."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)

    def at(self, *path):
        """`file, line N` for a message."""
        n = self.line(*path)
        return f"{self.where}, line {n}" if n else self.where


def read(path, where):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read: {exc.strerror}") from None
    # libyaml's parser where PyYAML was built with it (10x faster); its nodes keep their lines too
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    lines = {}
    if node is not None:
        _walk(node, (), lines)
    return Document(where, data, lines)


def _walk(node, path, lines):
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = path + (_key(key),)
            lines[here] = key.start_mark.line + 1
            _walk(value, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines)


def _key(node):
    if isinstance(node, yaml.ScalarNode):
        if node.tag.endswith(":str"):
            return node.value
        try:
            return yaml.safe_load(node.value)  # a number or a date as a key, as safe_load reads it
        except yaml.YAMLError:
            return node.value
    return None
