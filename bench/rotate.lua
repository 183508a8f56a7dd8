-- rotate.lua — wrk script for the store-* cases: every request carries the
-- next session cookie of a pool (one Cookie header value per line, each a
-- different user), round robin, so the revocation check's in-process cache
-- (2 s) misses and every request reads the store.
-- Usage: wrk … -s bench/rotate.lua URL -- POOL_FILE
local cookies = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    cookies[#cookies + 1] = line
  end
  if #cookies == 0 then
    error("rotate.lua: empty cookie pool " .. tostring(args[1]))
  end
end

function request()
  i = i % #cookies + 1
  return wrk.format(nil, nil, { Cookie = cookies[i] })
end
