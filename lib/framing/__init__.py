"""Framing: a clip's crop keyframes, trim/speed segments and timing as stored JSON, and the
9 framing gestures as pure reducers (state in, state out, no database).

Owns the rules of what a valid framing state is. May import only the kernel: it sits below the
database layer, whose migration reuses these rules.
"""
