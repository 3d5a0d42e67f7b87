<?php

namespace App\Events;

use Illuminate\Broadcasting\InteractsWithSockets;
use Illuminate\Broadcasting\PresenceChannel;
use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Broadcasting\Channel;
use Illuminate\Contracts\Broadcasting\ShouldBroadcastNow;

/** Broadcast to a public, a private and a presence channel at once. */
class OrderShipped implements ShouldBroadcastNow
{
    use InteractsWithSockets;

    public function __construct(public int $orderId, public string $note) {}

    public function broadcastOn(): array
    {
        return [new Channel('public-orders'), new PrivateChannel('orders.' . $this->orderId), new PresenceChannel('room')];
    }
}
