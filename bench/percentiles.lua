-- wrk script: after the run, prints on one line the latency percentiles that wrk's --latency leaves out
-- (99.9 and 99.99, besides 50, 90 and 99), in microseconds, for bench.py's tail part.
-- Usage: wrk ... -s bench/percentiles.lua http://127.0.0.1:PORT/

function done(summary, latency, requests)
  local out = {}
  for _, p in ipairs({50, 90, 99, 99.9, 99.99}) do
    out[#out + 1] = string.format("%s=%d", p, latency:percentile(p))
  end
  io.write("percentiles (us): ", table.concat(out, " "), "\n")
end
