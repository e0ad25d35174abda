"""Benchmarks of the hall's quality that anyone can rerun (the ``masterhall eval …`` commands).

``personas``: masters answering realistic questions (language, echo, loops, length cuts,
identity slips, format compliance, an optional rubric judge). ``formats``: the reader-free
format checks. ``judge``: the rubric and a judge on any OpenAI-compatible backend.
"""
