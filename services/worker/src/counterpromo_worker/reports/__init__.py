"""Documents made from a promo's data and outputs: the co-op CSV and the export ZIP."""

from counterpromo_worker.reports.bundle import BundleFile, bundle_zip
from counterpromo_worker.reports.coop import CoopLine, coop_report_csv

__all__ = ["BundleFile", "CoopLine", "bundle_zip", "coop_report_csv"]
