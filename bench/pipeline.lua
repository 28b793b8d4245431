-- wrk script: HTTP/1.1 pipelining. Each write carries DEPTH requests (first script argument, default 16);
-- wrk matches the responses one by one, so its request count and latency are per request.
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
