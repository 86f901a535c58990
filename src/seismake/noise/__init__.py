"""Noise branch: raw waveforms -> daily cross-correlations -> stacks.

One day (one job)::

    from seismake.noise.ccfstore import write_day_correlations
    from seismake.noise.correlate import correlate_streams
    from seismake.noise.params import CorrelationParams

    params = CorrelationParams.from_dict(config_section)
    day = correlate_streams(stream, inventory, params, UTCDateTime("2021-03-04"), threads)
    write_day_correlations(out_path, day)

One chunk of station pairs (one job)::

    from seismake.noise.params import StackParams
    from seismake.noise.stack import list_pairs, pairs_in_chunk, stack_day_files
    from seismake.noise.stackstore import write_stacks

    pairs = pairs_in_chunk(list_pairs(day_paths), chunk, n_chunks)
    stacks = stack_day_files(day_paths, StackParams.from_dict(config_section), pairs)
    write_stacks(out_path, stacks)

Modules: ``params``, ``preprocess``, ``windows``, ``normalize``, ``correlate``,
``ccfstore``, ``stack``, ``stackstore``.
"""
