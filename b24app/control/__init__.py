"""The control room: the operations manager's overview of every open request (issue 15).

``history`` (pure) turns approval logs into step durations and figures, ``chart`` (pure) draws the weekly
SVG, ``read`` gathers one view in the sweep's batches (cached a minute), ``export`` writes the CSV.
"""
