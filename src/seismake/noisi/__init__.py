"""Noise source modelling and inversion (the noisi branch).

Modules, in the order of the workflow: ``grid`` (source grid on WGS84),
``stations`` (station list), ``greens`` (Green's-function databases),
``sources`` (source models), ``forward`` (modelled correlations), ``sacio``
(correlations as SAC), ``measure`` (misfits and adjoint sources), ``kernels``
(sensitivity kernels, MPI), ``optimize`` (gradient, L-BFGS, line search,
inversion loop) and ``mpirun`` (kernels under mpiexec). The workflow's jobs use
``observed`` (observed stacks and synthetic data), ``iteration`` (one inversion
iteration as separate steps) and ``report`` (summary, figures, the demo's truth).
"""
