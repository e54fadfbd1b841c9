"""Reports: stored sweep results -> the tables behind each figure (``data``) -> matplotlib figures
(``figures``) -> markdown (``build``)."""

from accelsim.report.build import Report, build_report

__all__ = ["Report", "build_report"]
