<?php

namespace App\Http;

use Illuminate\Foundation\Http\Kernel as HttpKernel;

/** No global middleware: the test app keeps no session (see AppServiceProvider). */
class Kernel extends HttpKernel
{
    protected $middleware = [];
    protected $middlewareGroups = [];
    protected $routeMiddleware = [];
}
