<?php
// The routes bench/e2e.sh measures: one message per request (ten for
// emit_many) to the channel its 10 WebSocket subscribers listen on. Each
// answers "ok"; a failed emit answers 502 with the reason, so the load
// client counts it as an error.
$msg = 'order 1234 shipped: 3 items, 2 boxes, 12:00';
$route = strtok($_SERVER['REQUEST_URI'] ?? '/', '?');
try {
    switch ($route) {
        case '/none':
            break;
        case '/emit':
            Herald\emit('bench', $msg);
            break;
        case '/emit_many':
            Herald\emit_many(array_fill(0, 10, ['bench', $msg]));
            break;
        case '/defer':
            Herald\defer('bench', $msg);
            break;
        case '/curl2013':
            // The 2013 route as it was: a new curl handle per call, a GET to
            // the Express app beside socket.io, which broadcasts it.
            $ch = curl_init('http://' . $_SERVER['SOCKETIO_EMIT'] . '/emit/bench/' . rawurlencode($msg));
            curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
            curl_setopt($ch, CURLOPT_TIMEOUT_MS, 2000);
            $body = curl_exec($ch);
            $code = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
            curl_close($ch);
            if ($code !== 200) {
                http_response_code(502);
                echo "the socket.io route answered $code\n";
                return;
            }
            break;
        default:
            http_response_code(404);
            echo "no such route: /none /emit /emit_many /defer /curl2013\n";
            return;
    }
} catch (Herald\Exception $e) {
    http_response_code(502);
    echo get_class($e), ': ', $e->getMessage(), "\n";
    return;
}
echo "ok\n";
