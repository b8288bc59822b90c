#!/usr/bin/env python3
"""scripts/tidy-files on a tiny repository: which translation units a change can affect.

A git repository with two sources (a.cpp includes h.hpp, b.cpp does not), a compile database and
a stand-in `ninja` on PATH that prints the dependency lists the way `ninja -t deps` does.
"""
import json
import os
import pathlib
import stat
import subprocess
import sys
import tempfile
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "tidy-files"

DEPS = """core/a.o: #deps 3, deps mtime 1 (VALID)
    ../core/a.cpp
    ../core/h.hpp
    /usr/include/stdio.h

core/b.o: #deps 1, deps mtime 1 ({b_status})
    ../core/b.cpp

"""


class TidyFiles(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self.tmp.name)
        self.b_status = "VALID"
        for name, text in {"core/a.cpp": '#include "h.hpp"\n', "core/b.cpp": "int b;\n",
                           "core/h.hpp": "#pragma once\n", ".clang-tidy": "Checks: '-*'\n",
                           "core/CMakeLists.txt": "", "server/CMakeLists.txt": ""}.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_text(text)
        build = self.root / "build"
        build.mkdir()
        (build / "compile_commands.json").write_text(json.dumps([
            {"directory": str(build), "file": str(self.root / "core" / src),
             "command": f"c++ -o core/{src[0]}.o -c {self.root / 'core' / src}"}
            for src in ("a.cpp", "b.cpp")]))
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        ninja = bin_dir / "ninja"
        ninja.write_text(f"#!/bin/sh\ncat {self.root / 'deps.txt'}\n")
        ninja.chmod(ninja.stat().st_mode | stat.S_IEXEC)
        self.env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
        self.git("init", "-q")
        self.git("add", ".")
        self.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
        self.base = self.git("rev-parse", "HEAD").strip()

    def tearDown(self):
        self.tmp.cleanup()

    def git(self, *args):
        return subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True,
                              text=True).stdout

    def output(self, *args):
        (self.root / "deps.txt").write_text(DEPS.format(b_status=self.b_status))
        return subprocess.run([sys.executable, str(SCRIPT), "build", *args], cwd=self.root,
                              env=self.env, check=True, capture_output=True, text=True).stdout

    def selected(self, *args):
        return self.output(*args).split()

    def test_without_since_every_source(self):
        self.assertEqual(self.selected(), ["core/a.cpp", "core/b.cpp"])

    def test_nothing_changed_nothing_selected(self):
        # Not even an empty line: scripts/lint would count it as a translation unit.
        self.assertEqual(self.output("--since", self.base), "")

    def test_a_changed_header_selects_the_sources_that_include_it(self):
        (self.root / "core/h.hpp").write_text("#pragma once\nint h;\n")
        self.assertEqual(self.selected("--since", self.base), ["core/a.cpp"])

    def test_a_changed_source_selects_itself(self):
        (self.root / "core/b.cpp").write_text("int b2;\n")
        self.assertEqual(self.selected("--since", self.base), ["core/b.cpp"])

    def test_a_source_without_a_valid_dependency_list_is_checked(self):
        self.b_status = "STALE"
        (self.root / "core/h.hpp").write_text("#pragma once\nint h;\n")
        self.assertEqual(self.selected("--since", self.base), ["core/a.cpp", "core/b.cpp"])

    def test_changed_checks_select_everything(self):
        (self.root / ".clang-tidy").write_text("Checks: 'bugprone-*'\n")
        self.assertEqual(self.selected("--since", self.base), ["core/a.cpp", "core/b.cpp"])

    def test_changed_core_build_file_selects_everything(self):
        (self.root / "core/CMakeLists.txt").write_text("add_definitions(-DX)\n")
        self.assertEqual(self.selected("--since", self.base), ["core/a.cpp", "core/b.cpp"])

    def test_another_directorys_build_file_selects_that_directory(self):
        (self.root / "server/CMakeLists.txt").write_text("add_definitions(-DX)\n")
        self.assertEqual(self.selected("--since", self.base), [])

    def test_an_unknown_commit_selects_everything(self):
        self.assertEqual(self.selected("--since", "0" * 40), ["core/a.cpp", "core/b.cpp"])


if __name__ == "__main__":
    unittest.main()
