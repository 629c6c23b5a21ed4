-- wrk script: every request signs up a new account (unique email per thread and request).
-- `thread_id` is a global set per thread by setup(); a local here would shadow it and make the threads collide.
local counter = 0
function setup(thread)
  thread:set("thread_id", math.random(1, 1e9))
end
function request()
  counter = counter + 1
  local body = string.format(
    '{"email":"bench-%d-%d-%d@example.org","password":"correct horse battery staple","nickname":"Bench"}',
    thread_id, counter, os.time())
  return wrk.format("POST", "/api/v1/auth/signup", {["Content-Type"] = "application/json"}, body)
end
function response(status)
  if status ~= 201 then io.stderr:write("unexpected status " .. status .. "\n") end
end
