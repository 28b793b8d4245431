-- wrk script: HTTP/1.1 pipelining. Each write carries DEPTH requests (first script argument, default 16).
-- wrk matches the responses one by one, so its request count and requests/s are per request; its latency is
-- not. wrk 4 records one latency per write, when the last of the DEPTH responses has arrived (--c->pending
-- == 0), measured from when the batch's write began; and its coordinated-omission correction then takes the
-- interval between a connection's requests from the per-request count, DEPTH times too short, so that its
-- percentiles come back shifted, or as 0. bench.py therefore reports no p50 or p99 for this case, and its
-- slowest figure as that of a batch.
-- Usage: wrk ... -s bench/pipeline.lua http://127.0.0.1:PORT/ -- 16

local batch

function init(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format(nil)
  end
  batch = table.concat(requests)
end

function request()
  return batch
end
