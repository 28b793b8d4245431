"""Tests of the statistics bench.py judges the targets with: `python3 -m unittest discover -s bench` (.ci/run).

The figures themselves are never judged in CI (bench/run.sh --help); what is tested here is that the verdicts
the report prints follow from the figures as its legend says.
"""

import argparse
import contextlib
import io
import random
import unittest

import bench


def outlier(u):
    """Three times the value in one draw in a hundred, a third of it in another, else the value itself."""
    return 3.0 if u < 0.01 else 1.0 / 3.0 if u < 0.02 else 1.0


class MedianBoundsTest(unittest.TestCase):

    def test_the_bounds_are_order_statistics_chosen_for_the_confidence(self):
        # n = 12: P(B < 3) = (1 + 12 + 66) / 4096, so the 3rd smallest and 3rd largest values bound the median
        # with 98.1 % each; the 4th would with 92.7 %, under 95 %.
        low, high, covered = bench.median_bounds([12, 3, 7, 1, 9, 11, 2, 10, 5, 4, 8, 6])
        self.assertEqual((low, high), (3, 10))
        self.assertAlmostEqual(covered, 1 - 79 / 4096)
        # n = 20: the 6th (P(B < 6) = 2.1 %; P(B < 7) = 5.8 %).
        low, high, covered = bench.median_bounds(list(range(1, 21)))
        self.assertEqual((low, high), (6, 15))
        self.assertGreaterEqual(covered, 0.95)

    def test_five_values_are_enough_and_four_too_few(self):
        self.assertEqual(bench.median_bounds([3.0, 1.0, 2.0, 5.0, 4.0]), (1.0, 5.0, 1 - 1 / 32))
        self.assertEqual(bench.median_bounds([3.0, 1.0, 2.0, 4.0]), (1.0, 4.0, 1 - 1 / 16))
        self.assertEqual(bench.median_bounds([2.0]), (2.0, 2.0, 0.5))
        self.assertIsNone(bench.median_bounds([]))

    def test_each_bound_holds_as_often_as_it_says_whatever_the_distribution(self):
        # A skewed distribution with an outlier now and then (a run three times slower or faster, each as likely,
        # so that the median stays exp(0) = 1), as run-to-run ratios are on a shared machine. Over many samples of
        # 12, each bound must hold in 98.1 % of them (the sampling error of 6,000 trials is about 0.2 %), and not
        # much more: a looser bound would judge fewer targets.
        rng = random.Random(6)
        trials = 6000
        above = below = 0
        covered = None
        for _ in range(trials):
            sample = [rng.lognormvariate(0.0, 0.05) * outlier(rng.random()) for _ in range(12)]
            low, high, covered = bench.median_bounds(sample)
            above += low <= 1.0
            below += 1.0 <= high
        for held in (above, below):
            self.assertGreater(held / trials, covered - 0.01)
            self.assertLess(held / trials, covered + 0.01)


class TargetVerdictTest(unittest.TestCase):

    def test_an_upper_bound_at_or_below_one_meets_an_at_most_target(self):
        self.assertEqual(bench.target_verdict([0.90, 0.95, 0.97, 0.98, 0.99, 0.99, 1.00, 0.96]), "met")

    def test_a_bound_of_exactly_one_meets_the_target_which_allows_equality(self):
        self.assertEqual(bench.target_verdict([0.90, 0.95, 0.97, 0.98, 1.00]), "met")
        self.assertEqual(bench.target_verdict([1.00, 1.05, 1.03, 1.02, 1.01], higher_is_better=True), "met")

    def test_bounds_either_side_of_one_are_not_resolved(self):
        # n = 8: the 2nd smallest and 2nd largest (P(B < 2) = 9/256), here 0.95 and 1.01.
        self.assertEqual(bench.target_verdict([0.90, 0.95, 0.97, 0.98, 0.99, 1.01, 1.02, 0.96]), "not resolved")

    def test_a_lower_bound_above_one_does_not_meet_an_at_most_target(self):
        self.assertEqual(bench.target_verdict([1.05, 1.10, 1.02, 1.03, 1.04, 1.06]), "not met")

    def test_at_least_targets_are_judged_the_other_way(self):
        self.assertEqual(bench.target_verdict([1.05, 1.10, 1.02, 1.03, 1.04, 1.06], higher_is_better=True), "met")
        self.assertEqual(bench.target_verdict([0.95, 0.90, 0.98, 0.97, 0.96, 0.94], higher_is_better=True),
                         "not met")

    def test_five_repetitions_judge_and_four_are_too_few(self):
        self.assertEqual(bench.target_verdict([0.90, 0.91, 0.92, 0.93, 0.94]), "met")
        verdict = bench.target_verdict([0.90, 0.91, 0.92, 0.93])
        self.assertTrue(verdict.startswith("not resolved: 4 repetitions are too few"), verdict)


class TargetsTableTest(unittest.TestCase):

    def report(self):
        report = bench.Report(argparse.Namespace(), None)
        report.cases = [
            {"name": "keep-alive, 1000 connections", "key": "ka1000"},
            {"name": "pipelined", "key": "pipe16", "batch": 16},
            {"name": "/healthz", "key": "healthz"},
            {"name": "keep-alive, 64, paced", "key": "ka64paced", "paced": True},
        ]
        for rep in range(8):
            for key in ("ka1000", "pipe16", "healthz", "ka64paced"):
                # ours: 10 % less CPU, 2 % more req/s, p99 alternating either side of nginx's
                report.add({"key": key}, "backend", rep,
                           {"cpu_us": 9.0, "rps": 102.0, "p99_us": 990.0 if rep % 2 else 1010.0})
                report.add({"key": key}, "nginx", rep, {"cpu_us": 10.0, "rps": 100.0, "p99_us": 1000.0})
        return report

    def rows(self, report):
        return [line.split(" | ") for line in report.targets() if line.startswith("| ") and "---" not in line][1:]

    def test_each_case_gets_the_targets_the_issue_sets_for_it(self):
        rows = self.rows(self.report())
        targets = [(row[0].lstrip("| "), row[1]) for row in rows]
        self.assertEqual(targets, [
            ("CPU per request at most nginx's", "keep-alive, 1000 connections"),
            ("req/s at least nginx's", "keep-alive, 1000 connections"),
            ("p99 at most nginx's (flat out, each server its own load)", "keep-alive, 1000 connections"),
            ("CPU per request at most nginx's", "pipelined"),
            ("req/s at least nginx's", "pipelined"),  # no p99: wrk times its batches, not its requests
            ("req/s at least nginx's", "/healthz"),
            ("p99 at most nginx's (flat out, each server its own load)", "/healthz"),
            # paced: no req/s target, the client sets the rate
            ("p99 at most nginx's (the same offered load)", "keep-alive, 64, paced"),
        ])

    def test_the_verdicts_follow_from_the_ratios(self):
        rows = self.rows(self.report())
        verdicts = {(row[0].lstrip("| "), row[1]): row[5].rstrip(" |") for row in rows}
        self.assertEqual(verdicts[("CPU per request at most nginx's", "keep-alive, 1000 connections")], "met")
        self.assertEqual(verdicts[("req/s at least nginx's", "/healthz")], "met")
        self.assertEqual(verdicts[("p99 at most nginx's (the same offered load)", "keep-alive, 64, paced")],
                         "not resolved")
        medians = {(row[0].lstrip("| "), row[1]): row[2] for row in rows}
        self.assertEqual(medians[("CPU per request at most nginx's", "pipelined")], "0.90")
        self.assertEqual(medians[("p99 at most nginx's (flat out, each server its own load)", "/healthz")], "1.00")

    def test_a_case_skipped_for_either_server_is_left_out(self):
        report = self.report()
        report.skipped[("healthz", "backend")] = "n/a"
        self.assertNotIn("/healthz", [row[1] for row in self.rows(report)])

    def test_no_table_without_figures(self):
        report = bench.Report(argparse.Namespace(), None)
        self.assertEqual(report.targets(), [])


class WarmUpTablesTest(unittest.TestCase):

    def test_each_second_gets_the_median_req_s_and_p99_of_the_starts(self):
        report = bench.Report(argparse.Namespace(warmup_reps=3), None)
        slow, fast = {"rps": 20000.0, "p99_us": 12000.0}, {"rps": 140000.0, "p99_us": 500.0}
        no_p99 = {"rps": 150000.0, "p99_us": None}
        report.warmup.append(("backend", [[slow, fast], [slow, dict(fast, p99_us=900.0)], [slow, no_p99]]))
        self.assertEqual([line for line in report.warmup_tables() if line and "---" not in line], [
            "| warm-up: req/s in each second from the first 200 (keep-alive 64, new connections each second), "
            "median of 3 start(s) | 1. | 2. |",
            "| backend | 20000 | 140000 |",
            "| warm-up: p99 µs in each second from the first 200 (keep-alive 64, new connections each second), "
            "median of 3 start(s) | 1. | 2. |",
            # the second second: wrk printed no p99 in one start, so the median is of the other two
            "| backend | 12000 | 700 (2 of 3) |",
        ])


class ArgumentsTest(unittest.TestCase):

    def test_the_warm_up_part_needs_a_slice_and_a_start(self):
        for flag in ("--warmup-slices", "--warmup-reps"):
            with self.subTest(flag=flag), contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(getattr(bench.parse_args([flag, "1"]), flag[2:].replace("-", "_")), 1)
                with self.assertRaises(SystemExit):
                    bench.parse_args([flag, "0"])


class NginxConfigTest(unittest.TestCase):

    def server_blocks(self):
        conf = bench.NGINX_CONF.format(tmp="/tmp/x", port=1111, x_code_port=2222, keepalive="10s")
        blocks = {}
        for part in conf.split("    server {")[1:]:
            port = int(part.split("listen 127.0.0.1:", 1)[1].split(" ", 1)[0])
            blocks[port] = " ".join(part.split())
        return blocks

    def test_the_cases_but_x_code_get_the_contract_alone(self):
        # issue 6: location = /healthz { return 200 "ok"; } and location / { return 404 "default backend - 404"; },
        # with nothing evaluated per request beside them.
        contract = self.server_blocks()[1111]
        self.assertIn('location = /healthz { return 200 "ok"; }', contract)
        self.assertIn('location / { return 404 "default backend - 404"; }', contract)
        self.assertNotIn("if ", contract)
        self.assertNotIn("rewrite", contract)
        self.assertEqual(contract.count("location"), 2)

    def test_the_x_code_cases_go_to_a_server_of_their_own(self):
        self.assertIn('if ($http_x_code = "503")', self.server_blocks()[2222])
        nginx = bench.Server("nginx", [], 1111, "/tmp", x_code_port=2222)
        self.assertEqual(nginx.port_for({"key": "xcode", "x_code": True}), 2222)
        self.assertEqual(nginx.port_for({"key": "ka64"}), 1111)
        ours = bench.Server("backend", [], 3333, "/tmp")
        self.assertEqual(ours.port_for({"key": "xcode", "x_code": True}), 3333)


if __name__ == "__main__":
    unittest.main()
