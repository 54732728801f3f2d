#!/usr/bin/env python3
"""Generates the Mesos v1 .proto files of lib/proto/ from the spec tables.

    scripts/gen-protos.py [--spec DIR] [--out DIR] [--check]

The spec (shared/spec/messages-*.md and authorization.md sections 5-6) lists
every message and enum of the Mesos v1 protos as markdown tables: one section
per type, headed by its full name in backticks, with a
`field | # | label | type | notes` or `value | number | notes` table.  This
script parses those tables strictly (anything it does not understand is an
error, never skipped), builds the type tree, resolves every type reference
the way the spec says (own package first, then mesos.v1), and writes one
proto2 file per package.  The generated files are committed: the build never
needs the spec.

--check additionally compiles the result with protoc, decodes the descriptor
set protoc produced and verifies that every field's resolved type, number,
label and default is the one the table gives, so a scoping surprise in the
emitted relative names cannot slip through.

Choices that are ours, not the tables':
  * `deprecated` is written as a comment, not as [deprecated = true]:
    protoc-c would mark the struct members deprecated, and our code must
    keep reading those fields for compatibility under -Werror.
  * package `mesos.authorization` (authorizer.proto) refers to the
    unversioned `mesos.*` messages in Mesos; those have the same names and
    field numbers as the v1 ones, so we point it at `mesos.v1.*` instead
    (identical on the wire) rather than carry a second copy of mesos.proto.
  * numbers that Mesos used before 1.0 final and then dropped are written
    as `reserved` (messages.md, "wire-relevant differences"), so nobody
    reuses them by accident.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import textwrap

SPEC_FILES = [
    "messages-core.md",
    "messages-scheduler-executor.md",
    "messages-operator.md",
    "authorization.md",
]

# package -> (file under lib/proto, one-line description)
PACKAGE_FILES = {
    "mesos.v1": ("mesos/v1/mesos.proto",
                 "Core v1 types shared by every Mesos v1 API."),
    "mesos.v1.maintenance": ("mesos/v1/maintenance.proto",
                             "Maintenance schedules and cluster status."),
    "mesos.v1.allocator": ("mesos/v1/allocator.proto",
                           "Allocator-side inverse offer status."),
    "mesos.v1.quota": ("mesos/v1/quota.proto", "Quota requests and status."),
    "mesos.v1.scheduler": ("mesos/v1/scheduler.proto",
                           "The v1 scheduler API: Call, Event, Response."),
    "mesos.v1.executor": ("mesos/v1/executor.proto",
                          "The v1 executor API: Call, Event."),
    "mesos.v1.master": ("mesos/v1/master.proto",
                        "The v1 master operator API: Call, Response, Event."),
    "mesos.v1.agent": ("mesos/v1/agent.proto",
                       "The v1 agent operator API: Call, Response, ProcessIO."),
    "mesos": ("mesos/acls.proto",
              "The local authorizer's ACLs (the --acls JSON)."),
    "mesos.authorization": ("mesos/authorizer.proto",
                            "Authorization requests (subject, action, object)."),
}

# Well-known types the tables use by full name; we ship our own definition.
WELL_KNOWN = {
    "google.protobuf.Duration": "google/protobuf/duration.proto",
}

# Numbers Mesos used in the 1.x line and then removed (messages.md); reserved
# so that they are never given a new meaning here.
RESERVED = {
    "mesos.ACLs": [4, 9, 10],
    "mesos.v1.Offer.Operation.Type": [(7, 10)],
}

SCALARS = {
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32",
    "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "bool",
    "string", "bytes",
}

SINCE_RE = re.compile(r"^(?:since|added in) (\d+\.\d+\.\d+|HEAD)$")


class SpecError(Exception):
    pass


class Field:
    def __init__(self, name, number, label, typ, notes, where):
        self.name = name
        self.number = number
        self.label = label          # optional | required | repeated | map
        self.type = typ             # as written, "enum " stripped
        self.is_enum = False
        self.map_key = None
        self.map_value = None
        self.notes = notes
        self.where = where
        self.default = None
        self.oneof = None
        self.deprecated = False
        self.since = None
        self.comment = []
        self.resolved = None        # full name of message/enum type
        self.map_value_resolved = None


class EnumValue:
    def __init__(self, name, number, notes):
        self.name = name
        self.number = number
        self.notes = notes


class Type:
    def __init__(self, kind, full, package, where):
        self.kind = kind            # "message" | "enum"
        self.full = full
        self.package = package
        self.where = where
        self.since = None
        self.doc = ""
        self.fields = []
        self.values = []
        self.children = []          # nested types, document order
        self.parent = None
        self.has_table = False

    @property
    def local(self):
        return self.full[len(self.package) + 1:]

    @property
    def simple(self):
        return self.full.rsplit(".", 1)[1]


def split_row(line):
    if not (line.startswith("|") and line.rstrip().endswith("|")):
        raise SpecError("not a table row: %r" % line)
    return [c.strip() for c in line.strip()[1:-1].split("|")]


def parse_notes(text):
    """Splits a notes cell into (since, default, oneof, deprecated, rest)."""
    since = default = oneof = None
    deprecated = False
    rest = []
    if not text:
        return since, default, oneof, deprecated, rest
    for part in [p.strip() for p in text.split(";")]:
        m = SINCE_RE.match(part)
        if m:
            since = m.group(1)
            continue
        if part == "deprecated":
            deprecated = True
            continue
        m = re.match(r"^oneof `(\w+)`$", part)
        if m:
            oneof = m.group(1)
            continue
        m = re.match(r"^default (\S+)$", part)
        if m:
            default = m.group(1)
            continue
        rest.append(part)
    return since, default, oneof, deprecated, rest


def parse_spec(spec_dir):
    types = {}
    order = []
    for fname in SPEC_FILES:
        path = os.path.join(spec_dir, fname)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        i = 0
        n = len(lines)
        while i < n:
            line = lines[i]
            m = re.match(r"^#{3,4} (enum )?([A-Za-z][\w.]*)$", line)
            if not m:
                i += 1
                continue
            where = "%s:%d" % (fname, i + 1)
            # The section's full name line follows the heading.
            j = i + 1
            while j < n and not lines[j].strip():
                j += 1
            fm = re.match(r"^`([\w.]+)`(?: — added in (\S+))?$", lines[j])
            if not fm:
                # A heading of prose (authorization.md sections 1-4), not a type.
                i += 1
                continue
            full = fm.group(1)
            if not full.endswith("." + m.group(2)) and full != m.group(2):
                raise SpecError("%s: heading %s does not match %s"
                                % (where, m.group(2), full))
            package = full[: len(full) - len(m.group(2)) - 1]
            if package not in PACKAGE_FILES:
                raise SpecError("%s: unknown package %s" % (where, package))
            kind = "enum" if m.group(1) else "message"
            if full in types:
                raise SpecError("%s: %s defined twice" % (where, full))
            t = Type(kind, full, package, where)
            t.since = fm.group(2)
            types[full] = t
            order.append(t)
            # Prose until the table or the next heading.
            j += 1
            doc = []
            while j < n and not lines[j].startswith("|") and not lines[j].startswith("#"):
                doc.append(lines[j])
                j += 1
            t.doc = " ".join(l.strip() for l in doc if l.strip())
            if j < n and lines[j].startswith("|"):
                header = split_row(lines[j])
                sep = split_row(lines[j + 1])
                if not all(re.match(r"^-+$", s) for s in sep):
                    raise SpecError("%s: bad table separator" % where)
                j += 2
                rows = []
                while j < n and lines[j].startswith("|"):
                    rows.append((j + 1, split_row(lines[j])))
                    j += 1
                t.has_table = True
                if kind == "message":
                    if header != ["field", "#", "label", "type", "notes"]:
                        raise SpecError("%s: bad message table header %r" % (where, header))
                    for ln, r in rows:
                        parse_field_row(t, r, "%s:%d" % (fname, ln))
                else:
                    if header != ["value", "number", "notes"]:
                        raise SpecError("%s: bad enum table header %r" % (where, header))
                    for ln, r in rows:
                        if len(r) != 3 or not re.match(r"^[A-Za-z_]\w*$", r[0]) \
                                or not re.match(r"^-?\d+$", r[1]):
                            raise SpecError("%s:%d: bad enum row %r" % (fname, ln, r))
                        t.values.append(EnumValue(r[0], int(r[1]), r[2]))
            i = j
    return types, order


def parse_field_row(t, r, where):
    if len(r) != 5:
        raise SpecError("%s: bad field row %r" % (where, r))
    name, num, label, typ, notes = r
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise SpecError("%s: bad field name %r" % (where, name))
    if not re.match(r"^\d+$", num):
        raise SpecError("%s: bad field number %r" % (where, num))
    if label not in ("optional", "required", "repeated", "map"):
        raise SpecError("%s: bad label %r" % (where, label))
    f = Field(name, int(num), label, typ, notes, where)
    if label == "map":
        mm = re.match(r"^map<(\w+), ([\w.]+)>$", typ)
        if not mm:
            raise SpecError("%s: bad map type %r" % (where, typ))
        f.map_key, f.map_value = mm.group(1), mm.group(2)
        if f.map_key not in SCALARS:
            raise SpecError("%s: bad map key %r" % (where, f.map_key))
    else:
        if typ.startswith("enum "):
            f.is_enum = True
            typ = typ[5:]
        if not re.match(r"^[A-Za-z][\w.]*$", typ):
            raise SpecError("%s: bad type %r" % (where, typ))
        f.type = typ
    f.since, f.default, f.oneof, f.deprecated, f.comment = parse_notes(notes)
    if f.oneof and label != "optional":
        raise SpecError("%s: oneof member must be optional" % where)
    if f.default is not None and label not in ("optional", "required"):
        raise SpecError("%s: default on a %s field" % (where, label))
    t.fields.append(f)


def resolve_spec_name(name, package, types):
    """Resolves a type name as the spec's conventions say."""
    if name in SCALARS:
        return None
    if name in WELL_KNOWN:
        return name
    for prefix in ("scheduler.", "executor.", "master.", "agent.",
                   "maintenance.", "allocator.", "quota."):
        if name.startswith(prefix):
            return "mesos.v1." + name
    if name.startswith("mesos."):
        # authorizer.proto: unversioned mesos.* types, mapped to mesos.v1.*
        rest = name[len("mesos."):]
        for cand in ("mesos.v1." + rest, "mesos." + rest):
            if cand in types:
                return cand
        raise SpecError("cannot resolve %s" % name)
    for cand in (package + "." + name, "mesos.v1." + name):
        if cand in types:
            return cand
    raise SpecError("cannot resolve %s in package %s" % (name, package))


def map_entry_name(field_name):
    # protoc's rule: CamelCase of the field name plus "Entry".
    return "".join(p[:1].upper() + p[1:] for p in field_name.split("_")) + "Entry"


class Symbols:
    """The symbol table protoc builds, enough to predict name lookup."""

    def __init__(self, types):
        self.kinds = {}
        for t in types.values():
            parts = t.package.split(".")
            for k in range(1, len(parts) + 1):
                self.kinds.setdefault(".".join(parts[:k]), "package")
            self.kinds[t.full] = t.kind
            if t.kind == "enum":
                scope = t.full.rsplit(".", 1)[0]
                for v in t.values:
                    self.kinds[scope + "." + v.name] = "enumvalue"
            for f in t.fields:
                self.kinds[t.full + "." + f.name] = "field"
                if f.label == "map":
                    self.kinds[t.full + "." + map_entry_name(f.name)] = "message"
                if f.oneof:
                    self.kinds[t.full + "." + f.oneof] = "oneof"
        for full in WELL_KNOWN:
            self.kinds[full] = "message"
            self.kinds.setdefault("google", "package")
            self.kinds.setdefault("google.protobuf", "package")

    def lookup(self, name, scope):
        """protoc's LookupSymbol for a type name written inside `scope`."""
        if name.startswith("."):
            return name[1:] if name[1:] in self.kinds else None
        first = name.split(".", 1)[0]
        scope_to_try = scope
        while True:
            cand = (scope_to_try + "." if scope_to_try else "") + first
            kind = self.kinds.get(cand)
            if kind is not None:
                if first == name:
                    if kind in ("message", "enum"):
                        return cand
                    # protoc skips non-type symbols when it wants a type.
                else:
                    if kind in ("message", "enum", "package"):
                        full = (scope_to_try + "." if scope_to_try else "") + name
                        return full if self.kinds.get(full) in ("message", "enum") else None
                    # A non-aggregate symbol with that name: keep looking out.
            if not scope_to_try:
                return None
            scope_to_try = scope_to_try.rsplit(".", 1)[0] if "." in scope_to_try else ""


def reference(target, written, scope, symbols):
    """The name to write for `target` inside `scope`: the shortest suffix of
    its full name that protoc resolves to it (a package-relative spelling
    such as `v1.Request` is not used), else the full name, else the full
    name with a leading dot."""
    parts = target.split(".")
    for k in range(len(parts) - 1, 0, -1):
        c = ".".join(parts[k:])
        if symbols.kinds.get(".".join(parts[:k + 1])) == "package":
            break
        if symbols.lookup(c, scope) == target:
            return c
    if symbols.lookup(target, scope) == target:
        return target
    return "." + target


def build(types, order):
    # Parent links and nesting.
    for t in order:
        scope = t.full.rsplit(".", 1)[0]
        if scope != t.package:
            parent = types.get(scope)
            if parent is None or parent.kind != "message":
                raise SpecError("%s: parent %s missing" % (t.where, scope))
            t.parent = parent
            parent.children.append(t)
    # Resolve field types.
    for t in order:
        seen_num = {}
        seen_name = set()
        for f in t.fields:
            if f.number in seen_num:
                raise SpecError("%s: number %d used twice in %s" % (f.where, f.number, t.full))
            if f.name in seen_name:
                raise SpecError("%s: field %s twice in %s" % (f.where, f.name, t.full))
            seen_num[f.number] = f
            seen_name.add(f.name)
            if f.label == "map":
                f.map_value_resolved = resolve_spec_name(f.map_value, t.package, types)
                if f.map_value_resolved and types[f.map_value_resolved].kind != "message":
                    raise SpecError("%s: enum map values not supported" % f.where)
                continue
            f.resolved = resolve_spec_name(f.type, t.package, types)
            if f.resolved is None:
                if f.is_enum:
                    raise SpecError("%s: enum marker on scalar" % f.where)
                continue
            kind = "message" if f.resolved in WELL_KNOWN else types[f.resolved].kind
            if (kind == "enum") != f.is_enum:
                raise SpecError("%s: %s is a %s but the table %s"
                                % (f.where, f.resolved, kind,
                                   "says enum" if f.is_enum else "omits 'enum'"))
            if f.default is not None and f.is_enum:
                enum = types[f.resolved]
                if f.default not in [v.name for v in enum.values]:
                    raise SpecError("%s: default %s is not a value of %s"
                                    % (f.where, f.default, enum.full))
        # oneof members must be contiguous.
        last = None
        closed = set()
        for f in t.fields:
            if f.oneof != last:
                if last:
                    closed.add(last)
                if f.oneof in closed:
                    raise SpecError("%s: oneof %s is not contiguous" % (f.where, f.oneof))
                last = f.oneof
        if t.kind == "enum":
            if not t.values:
                raise SpecError("%s: enum without values" % t.where)
            names = set()
            for v in t.values:
                if v.name in names:
                    raise SpecError("%s: value %s twice" % (t.where, v.name))
                names.add(v.name)
    # Enum value names are siblings of the enum: they must not collide within
    # a scope (protoc's C++ scoping rule).
    scopes = {}
    for t in order:
        if t.kind == "enum":
            scope = t.full.rsplit(".", 1)[0]
            for v in t.values:
                other = scopes.setdefault((scope, v.name), t.full)
                if other != t.full:
                    raise SpecError("%s: enum value %s of %s collides with %s"
                                    % (t.where, v.name, t.full, other))


def proto_default(f, types):
    d = f.default
    if f.resolved and types.get(f.resolved) and types[f.resolved].kind == "enum":
        return d
    typ = f.type
    if typ == "string" or typ == "bytes":
        if not (d.startswith('"') and d.endswith('"')):
            raise SpecError("%s: string default must be quoted: %s" % (f.where, d))
        return d
    if typ == "bool":
        if d not in ("true", "false"):
            raise SpecError("%s: bad bool default %s" % (f.where, d))
        return d
    if typ in ("double", "float"):
        float(d)
        return d
    if typ in SCALARS:
        int(d)
        return d
    raise SpecError("%s: default on message field" % f.where)


def comment_lines(text, indent, width=78):
    if not text:
        return []
    prefix = indent + "// "
    return textwrap.wrap(text, width=max(20, width - len(prefix)),
                         initial_indent=prefix, subsequent_indent=prefix,
                         break_long_words=False, break_on_hyphens=False)


def field_comment(f):
    bits = []
    if f.deprecated:
        bits.append("Deprecated.")
    if f.since:
        bits.append("Since %s." % f.since)
    bits.extend(c[:1].upper() + c[1:] + ("" if c.endswith(".") else ".") for c in f.comment)
    return " ".join(bits)


def emit_type(t, types, symbols, indent, out):
    if t.doc or t.since:
        doc = t.doc
        if t.since:
            doc = (doc + " " if doc else "") + "Since %s." % t.since
        out.extend(comment_lines(doc, indent))
    if t.kind == "enum":
        out.append("%senum %s {" % (indent, t.simple))
        numbers = [v.number for v in t.values]
        if len(set(numbers)) != len(numbers):
            out.append("%s  option allow_alias = true;" % indent)
        for r in RESERVED.get(t.full, []):
            out.append("%s  reserved %s;" % (indent, reserved_text(r)))
        for v in t.values:
            line = "%s  %s = %d;" % (indent, v.name, v.number)
            note = v.notes
            if note:
                line += "  // " + note
            out.append(line)
        out.append("%s}" % indent)
        return
    if not t.fields and not t.children and t.full not in RESERVED:
        out.append("%smessage %s {}" % (indent, t.simple))
        return
    out.append("%smessage %s {" % (indent, t.simple))
    inner = indent + "  "
    for r in RESERVED.get(t.full, []):
        out.append("%sreserved %s;" % (inner, reserved_text(r)))
    current_oneof = None
    for f in t.fields:
        if f.oneof != current_oneof:
            if current_oneof:
                out.append("%s}" % inner)
            if f.oneof:
                out.append("%soneof %s {" % (inner, f.oneof))
            current_oneof = f.oneof
        findent = inner + ("  " if f.oneof else "")
        if f.label == "map":
            value = f.map_value
            if f.map_value_resolved:
                value = reference(f.map_value_resolved, f.map_value, t.full, symbols)
            decl = "map<%s, %s> %s = %d" % (f.map_key, value, f.name, f.number)
        else:
            typ = f.type
            if f.resolved:
                typ = reference(f.resolved, f.type, t.full, symbols)
            label = "" if f.oneof else f.label + " "
            decl = "%s%s %s = %d" % (label, typ, f.name, f.number)
            if f.default is not None:
                decl += " [default = %s]" % proto_default(f, types)
        decl += ";"
        c = field_comment(f)
        if c and len(findent) + len(decl) + 4 + len(c) <= 100:
            out.append("%s%s  // %s" % (findent, decl, c))
        else:
            out.extend(comment_lines(c, findent, 100))
            out.append(findent + decl)
    if current_oneof:
        out.append("%s}" % inner)
    for child in t.children:
        out.append("")
        emit_type(child, types, symbols, inner, out)
    out.append("%s}" % indent)


def reserved_text(r):
    if isinstance(r, tuple):
        return "%d to %d" % r
    return str(r)


def imports_for(package, types, order):
    deps = set()
    for t in order:
        if t.package != package:
            continue
        for f in t.fields:
            for target in (f.resolved, f.map_value_resolved):
                if not target:
                    continue
                if target in WELL_KNOWN:
                    deps.add(WELL_KNOWN[target])
                elif types[target].package != package:
                    deps.add(PACKAGE_FILES[types[target].package][0])
    return sorted(deps)


def generate(spec_dir):
    types, order = parse_spec(spec_dir)
    build(types, order)
    symbols = Symbols(types)
    files = {}
    for package, (path, desc) in PACKAGE_FILES.items():
        tops = [t for t in order if t.package == package and t.parent is None]
        if not tops:
            raise SpecError("no types for package %s" % package)
        out = [
            "// Generated by scripts/gen-protos.py from the spec tables; do not edit",
            "// by hand: fix the generator (or the spec) and regenerate.",
            "//",
            "// " + desc,
            "// Wire-compatible with Apache Mesos' %s: same package, message," % package,
            "// field and enum names, numbers, labels and defaults.",
        ]
        if package == "mesos.authorization":
            out += [
                "//",
                "// Mesos' Object carries the unversioned mesos.* messages; they have the",
                "// v1 messages' names and field numbers, so the v1 types are used here",
                "// (identical on the wire).",
            ]
        out += ["", 'syntax = "proto2";', "", "package %s;" % package, ""]
        for imp in imports_for(package, types, order):
            out.append('import "%s";' % imp)
        if out[-1] != "":
            out.append("")
        for t in tops:
            emit_type(t, types, symbols, "", out)
            out.append("")
        files[path] = "\n".join(out).rstrip("\n") + "\n"
    return types, order, files


# ------------------------------------------------------------------ --check

def parse_text_descriptor_set(text):
    """Reads `protoc --decode=google.protobuf.FileDescriptorSet` output into
    {message full name: {field name: {attr: value}}}."""
    tokens = text.split("\n")
    root = {"children": [], "attrs": []}
    stack = [root]
    for line in tokens:
        s = line.strip()
        if not s:
            continue
        if s.endswith("{"):
            node = {"name": s[:-1].strip(), "children": [], "attrs": []}
            stack[-1]["children"].append(node)
            stack.append(node)
        elif s == "}":
            stack.pop()
        else:
            k, _, v = s.partition(":")
            v = v.strip()
            if v.startswith('"'):
                v = bytes(v[1:-1], "utf-8").decode("unicode_escape")
            stack[-1]["attrs"].append((k.strip(), v))
    result = {}

    def attr(node, key):
        for k, v in node["attrs"]:
            if k == key:
                return v
        return None

    def walk_msg(node, prefix):
        full = prefix + "." + attr(node, "name")
        fields = {}
        for c in node["children"]:
            if c["name"] == "field":
                fields[attr(c, "name")] = {k: v for k, v in c["attrs"]}
            elif c["name"] == "nested_type":
                walk_msg(c, full)
        result[full] = fields

    for f in root["children"]:
        if f["name"] != "file":
            continue
        pkg = attr(f, "package") or ""
        for c in f["children"]:
            if c["name"] == "message_type":
                walk_msg(c, pkg)
    return result


def check(out_dir, types, order, files):
    protos = sorted(files)
    # Our google/protobuf/duration.proto lives beside the generated files.
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib", "proto")
    with tempfile.TemporaryDirectory() as tmp:
        ds = os.path.join(tmp, "set.bin")
        subprocess.run(["protoc", "--proto_path=" + out_dir, "--proto_path=" + here,
                        "--include_imports", "--descriptor_set_out=" + ds] + protos,
                       check=True)
        with open(ds, "rb") as f:
            data = f.read()
        inc = None
        for d in ("/usr/include", "/usr/local/include"):
            if os.path.exists(os.path.join(d, "google/protobuf/descriptor.proto")):
                inc = d
        if inc is None:
            raise SpecError("--check needs google/protobuf/descriptor.proto (libprotobuf-dev)")
        text = subprocess.run(["protoc", "--proto_path=" + inc,
                               "--decode=google.protobuf.FileDescriptorSet",
                               "google/protobuf/descriptor.proto"],
                              input=data, check=True, capture_output=True).stdout.decode()
    compiled = parse_text_descriptor_set(text)
    problems = []
    count = 0
    for t in order:
        if t.kind != "message":
            continue
        got = compiled.get(t.full)
        if got is None:
            problems.append("%s: missing from protoc's descriptors" % t.full)
            continue
        if len(got) != len(t.fields):
            problems.append("%s: %d fields compiled, %d in the table"
                            % (t.full, len(got), len(t.fields)))
        for f in t.fields:
            count += 1
            g = got.get(f.name)
            if g is None:
                problems.append("%s.%s: missing" % (t.full, f.name))
                continue
            if int(g["number"]) != f.number:
                problems.append("%s.%s: number %s" % (t.full, f.name, g["number"]))
            want_label = {"optional": "LABEL_OPTIONAL", "required": "LABEL_REQUIRED",
                          "repeated": "LABEL_REPEATED", "map": "LABEL_REPEATED"}[f.label]
            if g["label"] != want_label:
                problems.append("%s.%s: label %s" % (t.full, f.name, g["label"]))
            if f.label == "map":
                want = "." + t.full + "." + map_entry_name(f.name)
            elif f.resolved:
                want = "." + f.resolved
            else:
                want = None
                if g["type"] != "TYPE_" + f.type.upper():
                    problems.append("%s.%s: type %s" % (t.full, f.name, g["type"]))
            if want is not None and g.get("type_name") != want:
                problems.append("%s.%s: resolved to %s, want %s"
                                % (t.full, f.name, g.get("type_name"), want))
            if f.default is not None:
                d = g.get("default_value")
                exp = f.default.strip('"') if f.default.startswith('"') else f.default
                if d is None or (d != exp and not _same_number(d, exp)):
                    problems.append("%s.%s: default %r, want %r" % (t.full, f.name, d, exp))
            if f.oneof and "oneof_index" not in g:
                problems.append("%s.%s: not in a oneof" % (t.full, f.name))
        if f.label == "map":
            pass
    if problems:
        raise SpecError("--check failed:\n  " + "\n  ".join(problems))
    return count


def _same_number(a, b):
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=os.path.join(root, "..", "shared", "spec"))
    ap.add_argument("--out", default=os.path.join(root, "lib", "proto"))
    ap.add_argument("--check", action="store_true",
                    help="compile with protoc and verify every field against the tables")
    args = ap.parse_args()
    try:
        types, order, files = generate(args.spec)
        for path, text in files.items():
            full = os.path.join(args.out, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)
        nmsg = sum(1 for t in order if t.kind == "message")
        nenum = len(order) - nmsg
        msg = "gen-protos: %d files, %d messages, %d enums" % (len(files), nmsg, nenum)
        if args.check:
            nfields = check(args.out, types, order, files)
            msg += ", %d fields verified against protoc" % nfields
        print(msg)
    except SpecError as e:
        print("gen-protos: %s" % e, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print("gen-protos: %s failed" % e.cmd[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
