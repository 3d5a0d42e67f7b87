<?php

namespace App\Providers;

use App\Events\OrderShipped;
use Illuminate\Auth\GenericUser;
use Illuminate\Http\Request;
use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\Broadcast;
use Illuminate\Support\Facades\Route;
use Illuminate\Support\ServiceProvider;

/**
 * The test app: three users, a page running Laravel Echo, the routes that
 * serve Echo and pusher-js from the tests' node_modules, a route that
 * broadcasts, /broadcasting/auth and the channel callbacks.
 *
 * A login needs a session and a user table; the test stands in for both
 * with the guard "test-header": the page sends its user id in X-Test-User
 * (Echo's auth.headers), so the authorisation code under test (the
 * broadcaster's auth() and the channel callbacks) runs as in an app.
 */
class AppServiceProvider extends ServiceProvider
{
    private const USERS = [1 => 'ann', 2 => 'bob', 3 => 'eve'];

    public function boot(): void
    {
        Auth::viaRequest('test-header', static function (Request $request) {
            $id = (int)$request->header('X-Test-User');
            return isset(self::USERS[$id]) ? new GenericUser(['id' => $id, 'name' => self::USERS[$id]]) : null;
        });

        Broadcast::routes(['middleware' => []]);
        // eve may not see orders; everyone logged in may join the room
        Broadcast::channel('orders.{id}', static fn ($user, $id) => (int)$user->id !== 3);
        Broadcast::channel('room', static fn ($user) => ['id' => $user->id, 'name' => $user->name]);

        Route::post('/orders/{id}/ship', static function (int $id, Request $request) {
            broadcast(new OrderShipped($id, (string)$request->input('note', '')));
            return ['shipped' => $id];
        });
        // toOthers(): the tab whose X-Socket-ID this is does not get the event;
        // a malformed one is refused by the broadcaster (answered 400 here)
        Route::post('/orders/{id}/ship-to-others', static function (int $id, Request $request) {
            try {
                broadcast(new OrderShipped($id, (string)$request->input('note', '')))->toOthers();
            } catch (BroadcastException $e) {
                return response(['error' => $e->getMessage()], 400);
            }
            return ['shipped' => $id];
        });
        Route::get('/js/{file}', static function (string $file) {
            $files = ['echo.js' => 'laravel-echo/dist/echo.iife.js', 'pusher.js' => 'pusher-js/dist/web/pusher.min.js'];
            $path = rtrim((string)getenv('LARAVEL_TEST_NODE_MODULES'), '/') . '/' . ($files[$file] ?? '');
            abort_unless(isset($files[$file]) && is_file($path), 404);
            return response()->file($path, ['Content-Type' => 'text/javascript']);
        });
        Route::get('/', static function (Request $request) {
            $config = [
                'broadcaster' => 'pusher',
                'key' => (string)getenv('HERALD_PUSHER_APP_KEY'),
                'cluster' => 'mt1',
                'wsHost' => '127.0.0.1',
                'wsPort' => (int)getenv('HERALD_WS_PORT'),
                'forceTLS' => false,
                'enabledTransports' => ['ws'],
                'disableStats' => true,
                'auth' => ['headers' => ['X-Test-User' => (string)$request->query('user', '')]],
            ];
            $json = json_encode($config, JSON_HEX_TAG | JSON_HEX_AMP | JSON_UNESCAPED_SLASHES);
            return response("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Herald and Laravel Echo</title>\n"
                . "<script src=\"/js/pusher.js\"></script>\n<script src=\"/js/echo.js\"></script>\n"
                . "<script>window.Echo = new Echo.default($json);</script>\n"
                . "</head><body><h1>Laravel Echo on heraldd</h1></body></html>\n", 200, ['Content-Type' => 'text/html; charset=utf-8']);
        });
    }
}
