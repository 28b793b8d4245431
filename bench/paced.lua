-- wrk script: a fixed pause between a connection's answer and its next request (first script argument, in
-- milliseconds, default 1). The offered load is then set by the connections and the pause, not by how fast
-- the server answers, so two servers are compared at the same load, below what either can serve.
-- Usage: wrk ... -s bench/paced.lua http://127.0.0.1:PORT/ -- 1

local pause

function init(args)
  pause = tonumber(args[1]) or 1
end

function delay()
  return pause
end
